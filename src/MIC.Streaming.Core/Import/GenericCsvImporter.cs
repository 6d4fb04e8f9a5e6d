using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Import;

/// <summary>
/// Any delimited file with a column mapping: <c>user=…,item=…,time=…[,category=…][,behaviour=…]</c>,
/// each a header name or a 0-based index. Example for ReChorus' tab-separated <c>train.csv</c>:
/// <c>--columns user=user_id,item=item_id,time=time --delimiter tab</c>.
/// </summary>
public sealed class GenericCsvImporter : IDatasetImporter
{
    private static readonly string[] Roles = ["user", "item", "time", "category", "behaviour"];

    /// <summary>The mapping used without <c>--columns</c>: user, item and time in the first three columns.</summary>
    public const string DefaultColumns = "user=0,item=1,time=2";

    public string Format => "csv";

    public string Description => "Generic delimited file with --columns user=..,item=..,time=..[,category=..][,behaviour=..]";

    public void Import(string path, DatasetBuilder builder, ImportOptions options, ImportReport report)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(report);
        var mapping = ParseMapping(options.Columns ?? DefaultColumns);
        var byName = mapping.Values.Any(v => !int.TryParse(v, out _));
        // Without a mapping the default columns apply and a first line whose time field is not a
        // timestamp is a header (e.g. "user,item,time"), not a bad record.
        var sniffHeader = options.Columns is null && options.HasHeader is null;
        var hasHeader = options.HasHeader ?? byName;
        if (byName && !hasHeader)
        {
            throw new ArgumentException("--columns: column names need a header line; use 0-based indices for a file without one.");
        }

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!byName)
        {
            foreach (var (role, col) in mapping)
            {
                index[role] = int.Parse(col, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        var fields = new List<string>(8);
        var keep = options.Behaviours;
        foreach (var (line, number) in LineReader.Read(path, options.Progress))
        {
            report.LinesRead++;
            if (number == 1 && sniffHeader)
            {
                var n1 = CsvFields.Split(line, options.Delimiter, fields);
                hasHeader = n1 >= 3 && !CsvFields.TryTimestamp(fields[2], out _, out _);
            }

            if (number == 1 && hasHeader)
            {
                CsvFields.Split(line, options.Delimiter, fields);
                if (byName)
                {
                    foreach (var (role, col) in mapping)
                    {
                        var at = int.TryParse(col, out var i) ? i : fields.FindIndex(f => f.Trim() == col);
                        if (at < 0)
                        {
                            throw new DataFormatException(path, 1, $"column '{col}' (for {role}) is not in the header: {string.Join(", ", fields)}");
                        }

                        index[role] = at;
                    }
                }

                continue;
            }

            if (line.Length == 0)
            {
                continue;
            }

            var n = CsvFields.Split(line, options.Delimiter, fields);
            var need = index.Values.Max() + 1;
            if (n < need)
            {
                report.Bad(options, path, number, n < 0 ? "unterminated quote" : $"expected at least {need} fields, found {n}");
                continue;
            }

            if (!CsvFields.TryId(fields[index["user"]], out var user, out var reason)
                || !CsvFields.TryId(fields[index["item"]], out var item, out reason)
                || !CsvFields.TryTimestamp(fields[index["time"]], out var ts, out reason))
            {
                report.Bad(options, path, number, reason);
                continue;
            }

            var behaviour = index.TryGetValue("behaviour", out var b) ? fields[b].Trim() : RawInteraction.DefaultBehaviour;
            if (keep is not null && !keep.Contains(behaviour))
            {
                report.Filtered++;
                continue;
            }

            var category = index.TryGetValue("category", out var c) ? fields[c].Trim() : null;
            builder.Add(new RawInteraction(user, item, ts, behaviour.Length == 0 ? RawInteraction.DefaultBehaviour : behaviour, category));
        }
    }

    public static Dictionary<string, string> ParseMapping(string columns)
    {
        var mapping = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in columns.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var role = eq > 0 ? part[..eq].Trim().ToLowerInvariant() : string.Empty;
            if (eq <= 0 || !Roles.Contains(role) || part[(eq + 1)..].Trim().Length == 0)
            {
                throw new ArgumentException($"--columns: bad mapping '{part}': expected role=column with role one of {string.Join(", ", Roles)}.");
            }

            mapping[role] = part[(eq + 1)..].Trim();
        }

        foreach (var required in Roles.Take(3))
        {
            if (!mapping.ContainsKey(required))
            {
                throw new ArgumentException($"--columns '{columns}' must name '{required}' (e.g. user=0,item=1,time=2).");
            }
        }

        return mapping;
    }
}
