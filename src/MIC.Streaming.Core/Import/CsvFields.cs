namespace MIC.Streaming.Core.Import;

/// <summary>Splits one delimited line into fields; RFC 4180 quoting ("a, b" and doubled quotes) is honoured.</summary>
internal static class CsvFields
{
    /// <summary>Splits <paramref name="line"/> into <paramref name="fields"/>; returns the field count or -1 for an unterminated quote.</summary>
    public static int Split(string line, char delimiter, List<string> fields)
    {
        fields.Clear();
        if (line.IndexOf('"', StringComparison.Ordinal) < 0)
        {
            var start = 0;
            for (var i = 0; i <= line.Length; i++)
            {
                if (i == line.Length || line[i] == delimiter)
                {
                    fields.Add(line[start..i]);
                    start = i + 1;
                }
            }

            return fields.Count;
        }

        var sb = new System.Text.StringBuilder();
        var inQuotes = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (inQuotes)
            {
                if (c == '"')
                {
                    if (i + 1 < line.Length && line[i + 1] == '"')
                    {
                        sb.Append('"');
                        i++;
                    }
                    else
                    {
                        inQuotes = false;
                    }
                }
                else
                {
                    sb.Append(c);
                }
            }
            else if (c == '"')
            {
                inQuotes = true;
            }
            else if (c == delimiter)
            {
                fields.Add(sb.ToString());
                sb.Clear();
            }
            else
            {
                sb.Append(c);
            }
        }

        if (inQuotes)
        {
            return -1;
        }

        fields.Add(sb.ToString());
        return fields.Count;
    }

    /// <summary>A valid id: non-empty, no surrounding whitespace issues, at most 256 characters.</summary>
    public static bool TryId(string raw, out string id, out string reason)
    {
        id = raw.Trim();
        if (id.Length == 0)
        {
            reason = "empty id";
            return false;
        }

        if (id.Length > 256)
        {
            reason = "id longer than 256 characters";
            return false;
        }

        reason = string.Empty;
        return true;
    }

    public static bool TryTimestamp(string raw, out long value, out string reason)
    {
        if (long.TryParse(raw.AsSpan().Trim(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out value))
        {
            reason = string.Empty;
            return true;
        }

        // Some sources write timestamps as floats (e.g. "965779200.0").
        if (double.TryParse(raw.AsSpan().Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d)
            && double.IsFinite(d) && d >= long.MinValue && d <= long.MaxValue)
        {
            value = (long)d;
            reason = string.Empty;
            return true;
        }

        reason = $"timestamp '{Truncate(raw)}' is not an integer";
        return false;
    }

    public static string Truncate(string s) => s.Length <= 40 ? s : string.Concat(s.AsSpan(0, 37), "...");
}
