using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Import;

/// <summary>The importer registry and the one call that turns a path + format into a dataset.</summary>
public static class DatasetImporters
{
    public static IReadOnlyList<IDatasetImporter> All { get; } =
    [
        new ComiRecImporter(),
        new TaobaoImporter(),
        new S3RecImporter(),
        new MovieLensImporter(),
        new GenericCsvImporter(),
    ];

    /// <summary>The file name, or the folder name where the file name is generic (train.csv, ratings.csv).</summary>
    public static string DatasetName(string path)
    {
        var full = Path.GetFullPath(path.TrimEnd('/'));
        var name = Path.GetFileNameWithoutExtension(full);
        return name is "train" or "ratings" or "data" && Path.GetDirectoryName(full) is { } dir ? Path.GetFileName(dir) : name;
    }

    /// <summary>The binary snapshot written by <c>mic data import --out</c>.</summary>
    public const string SnapshotFormat = "micds";

    public static IReadOnlyList<string> FormatNames => [.. All.Select(i => i.Format), SnapshotFormat];

    public static IDatasetImporter Get(string format) =>
        All.FirstOrDefault(i => string.Equals(i.Format, format, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown format '{format}'. Known formats: {string.Join(", ", All.Select(i => i.Format))}.", nameof(format));

    /// <summary>Imports <paramref name="path"/> and applies k-core filtering when <paramref name="kCore"/> &gt; 0.</summary>
    public static (InteractionDataset Dataset, ImportReport Report) Load(string path, string format, ImportOptions options, int kCore = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.Equals(format, SnapshotFormat, StringComparison.OrdinalIgnoreCase))
        {
            var snapshot = DatasetSnapshot.Load(path);
            return (kCore > 0 ? KCoreFilter.Apply(snapshot, kCore) : snapshot, new ImportReport { Interactions = snapshot.InteractionCount });
        }

        var importer = Get(format);
        var builder = new DatasetBuilder(DatasetName(path));
        var report = new ImportReport();
        importer.Import(path, builder, options, report);
        report.Interactions = builder.Count;
        var dataset = builder.Build();
        if (kCore > 0)
        {
            dataset = KCoreFilter.Apply(dataset, kCore);
        }

        return (dataset, report);
    }
}
