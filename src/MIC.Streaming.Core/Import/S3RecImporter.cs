using System.Text.Json;
using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Import;

/// <summary>
/// S3-Rec sequences (aHuiWang/CIKM2020-S3Rec <c>data/</c>): one user per line,
/// <c>user item item …</c> in time order (only order is kept, so position = timestamp), and
/// <c>&lt;Name&gt;_item2attributes.json</c> = <c>{"item": [attr, …], …}</c>, read as a stream.
/// The first attribute is taken as the item's category as well (S3-Rec lists category levels first).
/// </summary>
public sealed class S3RecImporter : IDatasetImporter
{
    public string Format => "s3rec";

    public string Description => "S3-Rec sequences: 'user item item ...' lines + <Name>_item2attributes.json";

    public void Import(string path, DatasetBuilder builder, ImportOptions options, ImportReport report)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(report);
        var fields = new List<string>(64);
        foreach (var (line, number) in LineReader.Read(path, options.Progress))
        {
            report.LinesRead++;
            if (line.Length == 0)
            {
                continue;
            }

            CsvFields.Split(line.Trim(), ' ', fields);
            fields.RemoveAll(f => f.Length == 0);
            if (fields.Count < 2)
            {
                report.Bad(options, path, number, "expected 'user item [item ...]'");
                continue;
            }

            var bad = fields.FindIndex(f => f.Length > 256);
            if (bad >= 0)
            {
                report.Bad(options, path, number, $"field {bad + 1} is longer than 256 characters");
                continue;
            }

            // S3-Rec writes re-indexed integer ids; anything else means this is not an S3-Rec file.
            bad = fields.FindIndex(f => !IsInteger(f));
            if (bad >= 0)
            {
                report.Bad(options, path, number, $"field {bad + 1} '{fields[bad]}' is not an integer id (S3-Rec ids are integers)");
                continue;
            }

            for (var p = 1; p < fields.Count; p++)
            {
                builder.Add(fields[0], fields[p], p - 1);
            }
        }

        var meta = options.ItemMetaPath ?? FindAttributeFile(path);
        if (meta is not null)
        {
            ReadAttributes(meta, builder, report);
        }
    }

    private static bool IsInteger(string field)
    {
        foreach (var c in field)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return field.Length > 0;
    }

    internal static string? FindAttributeFile(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        var candidate = Path.Combine(dir, Path.GetFileNameWithoutExtension(path) + "_item2attributes.json");
        return File.Exists(candidate) ? candidate : null;
    }

    /// <summary>Streams the attribute object with <see cref="Utf8JsonReader"/> over a refilled buffer.</summary>
    internal static void ReadAttributes(string path, DatasetBuilder builder, ImportReport report)
    {
        using var stream = File.OpenRead(path);
        var buffer = new byte[1 << 16];
        var filled = 0;
        var state = default(JsonReaderState);
        var eof = false;
        string? item = null;
        var attrs = new List<string>();
        var inArray = false;
        long consumedTotal = 0;
        while (true)
        {
            if (!eof)
            {
                var read = stream.Read(buffer, filled, buffer.Length - filled);
                eof = read == 0;
                filled += read;
            }

            var reader = new Utf8JsonReader(buffer.AsSpan(0, filled), eof, state);
            try
            {
                while (reader.Read())
                {
                    switch (reader.TokenType)
                    {
                        case JsonTokenType.PropertyName when reader.CurrentDepth == 1:
                            item = reader.GetString();
                            break;
                        case JsonTokenType.StartArray when reader.CurrentDepth == 1:
                            inArray = true;
                            attrs.Clear();
                            break;
                        case JsonTokenType.Number when inArray:
                            attrs.Add(reader.GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
                            break;
                        case JsonTokenType.String when inArray:
                            attrs.Add(reader.GetString() ?? string.Empty);
                            break;
                        case JsonTokenType.EndArray when reader.CurrentDepth == 1:
                            inArray = false;
                            if (item is not null)
                            {
                                if (!builder.SetItemAttributes(item, attrs))
                                {
                                    report.UnknownItemMetaRows++;
                                }
                                else if (attrs.Count > 0)
                                {
                                    builder.SetItemCategory(item, "attr:" + attrs[0]);
                                }
                            }

                            break;
                    }
                }
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
            {
                throw new DataFormatException(path, 1, $"invalid attribute JSON near byte {consumedTotal + reader.BytesConsumed}: {e.Message}");
            }

            var consumed = (int)reader.BytesConsumed;
            consumedTotal += consumed;
            state = reader.CurrentState;
            if (eof)
            {
                if (consumed < filled)
                {
                    throw new DataFormatException(path, 1, $"attribute JSON ends early near byte {consumedTotal}");
                }

                return;
            }

            Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
            filled -= consumed;
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }
        }
    }
}
