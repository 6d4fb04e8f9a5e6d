using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Import;

/// <summary>
/// Alibaba Tianchi <c>UserBehavior.csv</c>: <c>user,item,category,behaviour,timestamp</c>, no header.
/// Keeps only the behaviours in <see cref="ImportOptions.Behaviours"/> (default <c>pv</c>, as ComiRec).
/// </summary>
public sealed class TaobaoImporter : IDatasetImporter
{
    private static readonly HashSet<string> KnownBehaviours = new(StringComparer.Ordinal) { "pv", "cart", "fav", "buy" };

    public string Format => "taobao";

    public string Description => "Taobao UserBehavior.csv: user,item,category,behaviour,timestamp (default behaviour filter: pv)";

    public void Import(string path, DatasetBuilder builder, ImportOptions options, ImportReport report)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(report);
        var keep = options.Behaviours ?? new HashSet<string>(StringComparer.Ordinal) { "pv" };
        var fields = new List<string>(5);
        foreach (var (line, number) in LineReader.Read(path, options.Progress))
        {
            report.LinesRead++;
            if (line.Length == 0)
            {
                continue;
            }

            if (CsvFields.Split(line, ',', fields) != 5)
            {
                report.Bad(options, path, number, $"expected 5 fields (user,item,category,behaviour,timestamp), found {fields.Count}");
                continue;
            }

            if (!CsvFields.TryId(fields[0], out var user, out var reason)
                || !CsvFields.TryId(fields[1], out var item, out reason)
                || !CsvFields.TryId(fields[2], out var category, out reason)
                || !CsvFields.TryTimestamp(fields[4], out var ts, out reason))
            {
                report.Bad(options, path, number, reason);
                continue;
            }

            var behaviour = fields[3].Trim();
            if (!KnownBehaviours.Contains(behaviour))
            {
                report.Bad(options, path, number, $"unknown behaviour '{CsvFields.Truncate(behaviour)}' (expected pv, cart, fav or buy)");
                continue;
            }

            if (!keep.Contains(behaviour))
            {
                report.Filtered++;
                continue;
            }

            builder.Add(new RawInteraction(user, item, ts, behaviour, category));
        }
    }
}
