using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Import;

/// <summary>
/// ComiRec's preprocessed text (THUDM/ComiRec <c>preprocess/data.py</c>): one interaction per line,
/// <c>user,item,timestamp</c> or <c>user,item,category,timestamp</c> (ComiRec writes the order
/// position as the timestamp). Categories come from <c>&lt;prefix&gt;_item_cate.txt</c>
/// (<c>item,category</c>) next to the file, e.g. <c>book_train.txt</c> → <c>book_item_cate.txt</c>.
/// </summary>
public sealed class ComiRecImporter : IDatasetImporter
{
    public string Format => "comirec";

    public string Description => "ComiRec text: user,item[,cate],timestamp lines + <prefix>_item_cate.txt";

    public void Import(string path, DatasetBuilder builder, ImportOptions options, ImportReport report)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(report);
        var fields = new List<string>(4);
        foreach (var (line, number) in LineReader.Read(path, options.Progress))
        {
            report.LinesRead++;
            if (line.Length == 0)
            {
                continue;
            }

            var n = CsvFields.Split(line, ',', fields);
            if (n is not (3 or 4))
            {
                report.Bad(options, path, number, $"expected 3 or 4 comma-separated fields (user,item[,cate],timestamp), found {Math.Max(n, 0)}");
                continue;
            }

            if (!CsvFields.TryId(fields[0], out var user, out var reason)
                || !CsvFields.TryId(fields[1], out var item, out reason)
                || !CsvFields.TryTimestamp(fields[n - 1], out var ts, out reason))
            {
                report.Bad(options, path, number, reason);
                continue;
            }

            var category = n == 4 ? fields[2].Trim() : null;
            builder.Add(new RawInteraction(user, item, ts, RawInteraction.DefaultBehaviour, category));
        }

        var meta = options.ItemMetaPath ?? FindCategoryFile(path);
        if (meta is not null)
        {
            ReadCategories(meta, builder, options, report);
        }
    }

    internal static string? FindCategoryFile(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        var name = Path.GetFileName(path);
        var underscore = name.IndexOf('_', StringComparison.Ordinal);
        var prefix = underscore > 0 ? name[..underscore] : Path.GetFileNameWithoutExtension(name);
        var candidate = Path.Combine(dir, $"{prefix}_item_cate.txt");
        return File.Exists(candidate) ? candidate : null;
    }

    private static void ReadCategories(string path, DatasetBuilder builder, ImportOptions options, ImportReport report)
    {
        var fields = new List<string>(2);
        foreach (var (line, number) in LineReader.Read(path))
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (CsvFields.Split(line, ',', fields) != 2 || !CsvFields.TryId(fields[0], out var item, out _) || !CsvFields.TryId(fields[1], out var cate, out _))
            {
                report.Bad(options, path, number, "expected item,category");
                continue;
            }

            if (!builder.SetItemCategory(item, cate))
            {
                report.UnknownItemMetaRows++;
            }
        }
    }
}
