using System.Globalization;
using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Import;

/// <summary>
/// GroupLens MovieLens <c>ratings.csv</c> (<c>userId,movieId,rating,timestamp</c>, with header) and
/// <c>movies.csv</c> (<c>movieId,title,genres</c>, quoted titles, genres <c>|</c>-separated) next to it.
/// Every rating is an implicit interaction unless <see cref="ImportOptions.MinRating"/> is set; genres
/// become the attribute bag and the first genre the category. The path may be the folder.
/// </summary>
public sealed class MovieLensImporter : IDatasetImporter
{
    public string Format => "movielens";

    public string Description => "MovieLens ratings.csv (+ movies.csv genres); the folder may be given";

    public void Import(string path, DatasetBuilder builder, ImportOptions options, ImportReport report)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(report);
        if (Directory.Exists(path))
        {
            path = Path.Combine(path, "ratings.csv");
        }

        var fields = new List<string>(4);
        foreach (var (line, number) in LineReader.Read(path, options.Progress))
        {
            report.LinesRead++;
            if (number == 1)
            {
                if (!line.StartsWith("userId,movieId,rating", StringComparison.Ordinal))
                {
                    report.Bad(options, path, number, "expected header 'userId,movieId,rating,timestamp'");
                }

                continue;
            }

            if (line.Length == 0)
            {
                continue;
            }

            if (CsvFields.Split(line, ',', fields) != 4)
            {
                report.Bad(options, path, number, $"expected 4 fields (userId,movieId,rating,timestamp), found {Math.Max(0, fields.Count)}");
                continue;
            }

            if (!CsvFields.TryId(fields[0], out var user, out var reason)
                || !CsvFields.TryId(fields[1], out var item, out reason)
                || !CsvFields.TryTimestamp(fields[3], out var ts, out reason))
            {
                report.Bad(options, path, number, reason);
                continue;
            }

            if (!double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var rating) || !double.IsFinite(rating))
            {
                report.Bad(options, path, number, $"rating '{CsvFields.Truncate(fields[2])}' is not a number");
                continue;
            }

            if (options.MinRating is { } min && rating < min)
            {
                report.Filtered++;
                continue;
            }

            builder.Add(new RawInteraction(user, item, ts, "rating"));
        }

        var movies = options.ItemMetaPath ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", "movies.csv");
        if (File.Exists(movies))
        {
            ReadMovies(movies, builder, options, report);
        }
    }

    private static void ReadMovies(string path, DatasetBuilder builder, ImportOptions options, ImportReport report)
    {
        var fields = new List<string>(3);
        foreach (var (line, number) in LineReader.Read(path))
        {
            if (number == 1 || line.Length == 0)
            {
                continue;
            }

            if (CsvFields.Split(line, ',', fields) != 3 || !CsvFields.TryId(fields[0], out var movie, out _))
            {
                report.Bad(options, path, number, "expected movieId,title,genres");
                continue;
            }

            var genres = fields[2].Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(g => g != "(no genres listed)")
                .ToArray();
            if (!builder.SetItemAttributes(movie, genres))
            {
                report.UnknownItemMetaRows++;
                continue;
            }

            if (genres.Length > 0)
            {
                builder.SetItemCategory(movie, genres[0]);
            }
        }
    }
}
