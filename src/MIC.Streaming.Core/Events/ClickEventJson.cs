using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MIC.Streaming.Core.Events;

/// <summary>
/// Parses and writes <see cref="ClickEvent"/> JSON. Bad input is a value, not an exception:
/// <see cref="TryParse"/> returns false with a short machine-readable reason
/// (<c>reason_code: detail</c>) that the ingestion path puts on the dead-letter record.
/// </summary>
public static class ClickEventJson
{
    /// <param name="strings">Optional: item ids, categories and behaviours (the values grain state keeps
    /// for every event) are taken from this cache, so a consumer that parses the same ids over and over
    /// shares one string per id. User ids are not: they key a batch's groups and are not kept per event,
    /// and a lookup that misses the CPU caches costs more than the short-lived string (profiled).</param>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out ClickEvent? evt, out string reason, Utf8StringCache? strings = null)
    {
        evt = null;
        if (utf8.Length == 0)
        {
            reason = "empty_payload";
            return false;
        }

        if (utf8.Length > ClickEvent.MaxPayloadBytes)
        {
            reason = $"too_large: {utf8.Length} bytes > {ClickEvent.MaxPayloadBytes}";
            return false;
        }

        try
        {
            return Parse(utf8, strings, out evt, out reason);
        }
        catch (JsonException e)
        {
            reason = $"bad_json: {Short(e.Message)}";
            return false;
        }
        catch (InvalidOperationException e)
        {
            reason = $"bad_json: {Short(e.Message)}";
            return false;
        }
    }

    public static byte[] Serialize(ClickEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("eventId", evt.EventId);
            w.WriteString("userId", evt.UserId);
            w.WriteString("itemId", evt.ItemId);
            w.WriteNumber("timestamp", evt.Timestamp);
            w.WriteString("behaviour", evt.Behaviour);
            if (evt.Category is not null)
            {
                w.WriteString("category", evt.Category);
            }

            if (evt.Fields is { Count: > 0 })
            {
                w.WriteStartObject("fields");
                foreach (var (k, v) in evt.Fields)
                {
                    w.WriteString(k, v);
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        return stream.ToArray();
    }

    private static bool Parse(ReadOnlySpan<byte> utf8, Utf8StringCache? strings, out ClickEvent? evt, out string reason)
    {
        evt = null;
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 8 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            reason = "bad_json: not a JSON object";
            return false;
        }

        string? eventId = null, userId = null, itemId = null, behaviour = null, category = null;
        long? timestamp = null;
        Dictionary<string, string>? fields = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = Property(ref reader);   // known names are matched on the UTF-8 bytes, without a string
            reader.Read();
            switch (name)
            {
                case "eventId":
                    if (!TryString(ref reader, "eventId", ClickEvent.MaxEventIdLength, null, out eventId, out reason))
                    {
                        return false;
                    }

                    break;
                case "userId":
                    if (!TryId(ref reader, "userId", null, out userId, out reason))
                    {
                        return false;
                    }

                    break;
                case "itemId":
                    if (!TryId(ref reader, "itemId", strings, out itemId, out reason))
                    {
                        return false;
                    }

                    break;
                case "timestamp":
                    if (!TryTimestamp(ref reader, out timestamp, out reason))
                    {
                        return false;
                    }

                    break;
                case "behaviour":
                    if (reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(DefaultBehaviourUtf8))
                    {
                        behaviour = ClickEvent.DefaultBehaviour; // the common case, shared instead of allocated
                    }
                    else if (!TryString(ref reader, "behaviour", 32, strings, out behaviour, out reason))
                    {
                        return false;
                    }

                    break;
                case "category":
                    if (reader.TokenType != JsonTokenType.Null && !TryString(ref reader, "category", ClickEvent.MaxIdLength, strings, out category, out reason))
                    {
                        return false;
                    }

                    break;
                case "fields":
                    if (!TryFields(ref reader, out fields, out reason))
                    {
                        return false;
                    }

                    break;
                default:
                    reader.Skip(); // unknown properties are ignored
                    break;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            reason = "bad_json: unterminated object";
            return false;
        }

        // One object and nothing after it but whitespace: `{...}xyz` and `{...}{...}` are not an event
        // (reading on throws for anything but whitespace; caught as bad_json).
        if (reader.Read())
        {
            reason = "bad_json: content after the object";
            return false;
        }

        var missing = eventId is null ? "eventId" : userId is null ? "userId" : itemId is null ? "itemId" : null;
        if (missing is not null)
        {
            reason = $"missing_field: {missing}";
            return false;
        }

        if (timestamp is null)
        {
            reason = "missing_field: timestamp";
            return false;
        }

        evt = new ClickEvent(eventId!, userId!, itemId!, timestamp.Value, behaviour ?? ClickEvent.DefaultBehaviour, category, fields);
        reason = string.Empty;
        return true;
    }

    private static readonly byte[] DefaultBehaviourUtf8 = Encoding.UTF8.GetBytes(ClickEvent.DefaultBehaviour);

    /// <summary>The current property's name: one of the contract's names (interned constants) or, for any other, a new string.</summary>
    private static string? Property(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("eventId"u8) ? "eventId"
        : reader.ValueTextEquals("userId"u8) ? "userId"
        : reader.ValueTextEquals("itemId"u8) ? "itemId"
        : reader.ValueTextEquals("timestamp"u8) ? "timestamp"
        : reader.ValueTextEquals("behaviour"u8) ? "behaviour"
        : reader.ValueTextEquals("category"u8) ? "category"
        : reader.ValueTextEquals("fields"u8) ? "fields"
        : reader.GetString();

    private static bool TryString(ref Utf8JsonReader reader, string field, int maxLength, Utf8StringCache? strings, out string? value, out string reason)
    {
        value = null;
        if (reader.TokenType != JsonTokenType.String)
        {
            reason = $"wrong_type: {field} must be a string, got {reader.TokenType}";
            return false;
        }

        value = Text(ref reader, strings);
        if (string.IsNullOrWhiteSpace(value))
        {
            reason = $"empty_field: {field}";
            return false;
        }

        if (value.Length > maxLength)
        {
            reason = $"too_long: {field} has {value.Length} chars > {maxLength}";
            return false;
        }

        if (HasControl(value))
        {
            reason = $"control_character: {field} contains a control character (e.g. NUL)";
            value = null;
            return false;
        }

        reason = string.Empty;
        return true;
    }

    /// <summary>The current token's text; from the cache when there is one and the token needs no unescaping.</summary>
    private static string? Text(ref Utf8JsonReader reader, Utf8StringCache? strings) =>
        strings is not null && !reader.ValueIsEscaped && !reader.HasValueSequence ? strings.Get(reader.ValueSpan) : reader.GetString();

    private static bool TryId(ref Utf8JsonReader reader, string field, Utf8StringCache? strings, out string? value, out string reason)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            value = null;
            if (!reader.TryGetInt64(out var n))
            {
                reason = reader.TryGetDouble(out var d) && Math.Abs(d) >= long.MaxValue
                    ? $"id_overflow: {field}"
                    : $"wrong_type: {field} must be an integer or a string";
                return false;
            }

            if (n < 0)
            {
                reason = $"negative_id: {field}";
                return false;
            }

            // The number's own text is its canonical form only when it has no sign, exponent or leading zero.
            value = strings is not null && !reader.HasValueSequence && IsPlainDigits(reader.ValueSpan)
                ? strings.Get(reader.ValueSpan)
                : n.ToString(CultureInfo.InvariantCulture);
            reason = string.Empty;
            return true;
        }

        return TryString(ref reader, field, ClickEvent.MaxIdLength, strings, out value, out reason);
    }

    /// <summary>char.IsControl over the whole string, vectorised and without allocating (every event's ids pass here).</summary>
    public static bool HasControl(ReadOnlySpan<char> text) => text.ContainsAnyInRange('\u0000', '\u001f') || text.ContainsAnyInRange('\u007f', '\u009f');

    private static bool IsPlainDigits(ReadOnlySpan<byte> text) =>
        text.Length > 0 && !text.ContainsAnyExceptInRange((byte)'0', (byte)'9') && (text[0] != (byte)'0' || text.Length == 1);

    private static bool TryTimestamp(ref Utf8JsonReader reader, out long? value, out string reason)
    {
        value = null;
        if (reader.TokenType == JsonTokenType.Number)
        {
            if (!reader.TryGetInt64(out var seconds))
            {
                reason = "wrong_type: timestamp must be integer Unix seconds";
                return false;
            }

            if (seconds < 0)
            {
                reason = "bad_timestamp: negative";
                return false;
            }

            value = seconds;
            reason = string.Empty;
            return true;
        }

        if (reader.TokenType == JsonTokenType.String
            && DateTimeOffset.TryParse(reader.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
        {
            value = when.ToUnixTimeSeconds();
            reason = string.Empty;
            return value >= 0 || Fail("bad_timestamp: before 1970", out reason);
        }

        reason = $"wrong_type: timestamp must be Unix seconds or ISO-8601, got {reader.TokenType}";
        return false;
    }

    private static bool TryFields(ref Utf8JsonReader reader, out Dictionary<string, string>? fields, out string reason)
    {
        fields = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            reason = string.Empty;
            return true;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reason = "wrong_type: fields must be an object of strings";
            return false;
        }

        fields = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString() ?? string.Empty;
            reader.Read();
            if (key.Length is 0 or > 64)
            {
                reason = "bad_field_name: 1–64 chars";
                return false;
            }

            if (!TryString(ref reader, $"fields.{key}", ClickEvent.MaxIdLength, null, out var value, out reason))
            {
                return false;
            }

            if (fields.Count == ClickEvent.MaxFields)
            {
                reason = $"too_many_fields: > {ClickEvent.MaxFields}";
                return false;
            }

            fields[key] = value!;
        }

        reason = string.Empty;
        return true;
    }

    private static bool Fail(string why, out string reason)
    {
        reason = why;
        return false;
    }

    private static string Short(string message)
    {
        var line = message.Split('\n')[0];
        return line.Length <= 120 ? line : string.Concat(line.AsSpan(0, 117), "...");
    }

    /// <summary>UTF-8 bytes of a string (for tests and producers).</summary>
    public static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);
}
