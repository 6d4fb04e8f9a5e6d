using System.Globalization;
using ScottPlot;

namespace MIC.Streaming.Reports;

/// <summary>One model variant's geometry and recall (a point of Figure 4).</summary>
public sealed record GeometryPoint(string Label, double Alignment, double UserUniformity, double ItemUniformity, double Recall50);

/// <summary>A variant's geometry after each epoch (Figure 4 over training).</summary>
public sealed record GeometryCurve(string Label, int[] Epochs, double[] Alignment, double[] ItemUniformity, double[] ValidRecall50);

/// <summary>The PNGs of <c>mic reproduce</c>'s Figure 4 (Wang &amp; Isola's alignment and uniformity against recall).</summary>
public static class ReproductionCharts
{
    private static readonly Color[] Palette = [Colors.Black, Colors.SteelBlue, Colors.DarkOrange, Colors.ForestGreen, Colors.Crimson, Colors.Purple];

    /// <summary>
    /// Left: alignment (x) against item uniformity (y), one marker per variant labelled with its
    /// Recall@50 — lower-left is better on both. Saved as one PNG.
    /// </summary>
    public static void SaveGeometry(IReadOnlyList<GeometryPoint> points, string pngPath, string title)
    {
        ArgumentNullException.ThrowIfNull(points);
        var plot = new Plot();
        for (var i = 0; i < points.Count; i++)
        {
            var p = points[i];
            var marker = plot.Add.Marker(p.Alignment, p.ItemUniformity);
            marker.Color = Palette[i % Palette.Length];
            marker.Size = 12;
            marker.LegendText = string.Create(CultureInfo.InvariantCulture, $"{p.Label}: R@50 {p.Recall50:F4}, user unif. {p.UserUniformity:F2}");
            var text = plot.Add.Text(p.Label, p.Alignment, p.ItemUniformity);
            text.LabelFontSize = 11;
            text.OffsetX = 8;
        }

        plot.Title(title);
        plot.Axes.Bottom.Label.Text = "alignment E‖u − i‖² over test (user, target) pairs (lower = better)";
        plot.Axes.Left.Label.Text = "item uniformity log E exp(−2‖i − i'‖²) (lower = better)";
        plot.ShowLegend(Alignment.UpperRight);
        Save(plot, pngPath, 1100, 700);
    }

    /// <summary>Alignment (solid, left axis) and item uniformity (dashed, right axis) after each epoch, per variant.</summary>
    public static void SaveCurves(IReadOnlyList<GeometryCurve> curves, string pngPath, string title)
    {
        ArgumentNullException.ThrowIfNull(curves);
        var plot = new Plot();
        for (var i = 0; i < curves.Count; i++)
        {
            var c = curves[i];
            var xs = c.Epochs.Select(e => (double)e).ToArray();
            var alignment = plot.Add.Scatter(xs, c.Alignment);
            alignment.Color = Palette[i % Palette.Length];
            alignment.LegendText = $"{c.Label} alignment";
            var uniformity = plot.Add.Scatter(xs, c.ItemUniformity);
            uniformity.Color = Palette[i % Palette.Length];
            uniformity.LinePattern = LinePattern.Dashed;
            uniformity.LegendText = $"{c.Label} item uniformity";
            uniformity.Axes.YAxis = plot.Axes.Right;
        }

        plot.Title(title);
        plot.Axes.Bottom.Label.Text = "epoch";
        plot.Axes.Left.Label.Text = "alignment (solid)";
        plot.Axes.Right.Label.Text = "item uniformity (dashed)";
        plot.ShowLegend(Alignment.UpperRight);
        Save(plot, pngPath, 1100, 650);
    }

    private static void Save(Plot plot, string pngPath, int width, int height)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(pngPath));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        plot.SavePng(pngPath, width, height);
    }
}
