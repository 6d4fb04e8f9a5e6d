using System.Globalization;

namespace MIC.Streaming.Trainer;

/// <summary>
/// One row of the online metrics file: a (model, channel) Recall@K over the events scored while
/// <see cref="Version"/> was the served version (written when the next version is published).
/// </summary>
public sealed record OnlineMetricsRow(long TimeMs, long Version, long EventsSeen, string Model, string Channel, int K, long Evaluated, double Recall);

/// <summary>The CSV the trainer appends to in the model store at each publish (<c>mic report</c> reads it).</summary>
public static class OnlineMetricsFile
{
    public const string Header = "time_ms,version,events_seen,model,channel,k,evaluated,recall";

    public static string Format(OnlineMetricsRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return string.Create(CultureInfo.InvariantCulture, $"{row.TimeMs},{row.Version},{row.EventsSeen},{row.Model},{row.Channel},{row.K},{row.Evaluated},{row.Recall:F6}");
    }

    public static List<OnlineMetricsRow> Read(string path)
    {
        var rows = new List<OnlineMetricsRow>();
        var lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (lineNo == 1 && line.StartsWith("time_ms", StringComparison.Ordinal) || line.Length == 0)
            {
                continue;
            }

            var f = line.Split(',');
            if (f.Length != 8)
            {
                throw new InvalidDataException($"{path}:{lineNo}: expected 8 columns ({Header}), got {f.Length}.");
            }

            var c = CultureInfo.InvariantCulture;
            rows.Add(new OnlineMetricsRow(long.Parse(f[0], c), long.Parse(f[1], c), long.Parse(f[2], c), f[3], f[4], int.Parse(f[5], c), long.Parse(f[6], c), double.Parse(f[7], c)));
        }

        return rows;
    }
}
