using MIC.Streaming.Trainer;
using ScottPlot;

namespace MIC.Streaming.Reports;

/// <summary>
/// Plots the trainer's online metrics file: prequential Recall@K per channel over the stream
/// (x = events the trainer had read), the updated model as solid lines, the frozen first model
/// dashed, and a vertical marker where each new model version started serving.
/// </summary>
public static class OnlineRecallChart
{
    private static readonly Dictionary<string, Color> ChannelColors = new(StringComparer.Ordinal)
    {
        ["merged"] = Colors.Black,
        ["u2i"] = Colors.SteelBlue,
        ["u2u2i"] = Colors.DarkOrange,
        ["u2i2i"] = Colors.ForestGreen,
    };

    /// <summary>Writes the chart to <paramref name="pngPath"/>; returns the number of points drawn.</summary>
    public static int Save(IReadOnlyList<OnlineMetricsRow> rows, string pngPath, int width = 1200, int height = 700)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            throw new InvalidDataException("The online metrics file has no rows yet (the trainer writes one per published version).");
        }

        var plot = new Plot();
        var points = 0;
        foreach (var series in rows.GroupBy(r => (r.Model, r.Channel)).OrderBy(g => g.Key.Model).ThenBy(g => g.Key.Channel, StringComparer.Ordinal))
        {
            var ordered = series.Where(r => r.Evaluated > 0).OrderBy(r => r.EventsSeen).ToList();
            if (ordered.Count == 0)
            {
                continue;
            }

            var line = plot.Add.Scatter(ordered.Select(r => (double)r.EventsSeen).ToArray(), ordered.Select(r => r.Recall).ToArray());
            line.LegendText = $"{series.Key.Model} {series.Key.Channel}";
            line.Color = ChannelColors.GetValueOrDefault(series.Key.Channel, Colors.Gray);
            line.LinePattern = series.Key.Model == "frozen" ? LinePattern.Dashed : LinePattern.Solid;
            line.LineWidth = series.Key.Channel == "merged" ? 2.5f : 1.5f;
            line.MarkerSize = 4;
            points += ordered.Count;
        }

        // Version change points: the first row scored against each served version.
        var changes = rows.GroupBy(r => r.Version).Select(g => (Version: g.Key, At: g.Min(r => r.EventsSeen))).OrderBy(c => c.At).ToList();
        var labelEvery = Math.Max(1, changes.Count / 20);
        for (var i = 1; i < changes.Count; i++)
        {
            var marker = plot.Add.VerticalLine(changes[i - 1].At, 1, Colors.Gray.WithAlpha(0.5));
            marker.LinePattern = LinePattern.Dotted;
            if (i % labelEvery == 0)
            {
                marker.Text = "v" + changes[i].Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
                marker.LabelFontSize = 10;
                marker.LabelOppositeAxis = true; // above the plot, clear of the x-axis tick labels
            }
        }

        var k = rows[0].K;
        plot.Title($"Online (prequential) Recall@{k} per channel: updated model (solid) vs frozen first model (dashed)");
        plot.Axes.Bottom.Label.Text = "click events read by the trainer";
        plot.Axes.Left.Label.Text = $"Recall@{k} of the served version";
        plot.Axes.SetLimitsY(0, Math.Min(1, Math.Max(0.05, rows.Max(r => r.Recall) * 1.15)));
        plot.ShowLegend(Alignment.UpperLeft);
        var directory = Path.GetDirectoryName(Path.GetFullPath(pngPath));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        plot.SavePng(pngPath, width, height);
        return points;
    }
}
