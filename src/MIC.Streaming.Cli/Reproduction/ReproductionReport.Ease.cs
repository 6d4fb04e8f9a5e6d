using System.Globalization;
using MIC.Streaming.Core.Evaluation;

namespace MIC.Streaming.Cli.Reproduction;

/// <summary>Tuned EASE^R, the linear floor the issue asks every table to stand beside.</summary>
public static partial class ReproductionReport
{
    /// <summary>
    /// A table row for EASE^R: its label, the given leading cells, then its value of each metric once
    /// per column (EASE returns one list, so every channel column reads the same list), then the
    /// trailing cells. Empty when no EASE was tuned (a catalogue too large, or not asked for).
    /// </summary>
    private static string EaseRow(TunedBaseline? ease, IEnumerable<string> leading, IEnumerable<string> metricPerColumn, params string[] trailing) =>
        ease is null ? string.Empty
            : "| " + string.Join(" | ", leading.Prepend($"{ease.Label}, one list").Concat(metricPerColumn.Select(m => ease.Result.Metrics[m].ToString("F4", CultureInfo.InvariantCulture))).Concat(trailing)) + " |" + Environment.NewLine;

    /// <summary>A recall ÷ tuned EASE's R@50 cell ("–" without EASE).</summary>
    private static string OverEase(double recall50, TunedBaseline? ease) =>
        ease is null || !double.IsFinite(recall50) ? "–" : (recall50 / ease.Result.Metrics["Recall@50"]).ToString("F2", CultureInfo.InvariantCulture) + "×";
}
