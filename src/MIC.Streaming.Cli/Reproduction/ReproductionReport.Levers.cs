using System.Globalization;
using System.Text;
using MIC.Streaming.Core.Evaluation;

namespace MIC.Streaming.Cli.Reproduction;

/// <summary>"A model worth serving": the levers' table.</summary>
public static partial class ReproductionReport
{
    private static void Levers(StringBuilder md, List<ReproductionRunResult> runs, TunedBaseline? ease)
    {
        string[] channels = ["U2I", "U2U2I", "U2I2I", "Merged"];
        var easeRecall = ease?.Result.Metrics["Recall@50"];
        md.AppendLine(CultureInfo.InvariantCulture, $"## A model worth serving: {ReproductionPlan.LeverEncoder} with one lever at a time (test R@50, mean ± sd)");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"inbatch: in-batch softmax beside the logistic loss. sampled: sampled softmax over {ReproductionPlan.LeverSampledNegatives:N0} uniform catalogue items per step (10 × batch, ComiRec's setting). -mic: + full MIC (with in-batch: pairwise UU/II, support set from step 0; with sampled: NT-Xent, support set after 200 steps). inbatch-maxlen50: the in-batch lever reading the last {ReproductionPlan.LeverMaxLen} items instead of --max-len, its evaluation users' histories cut there too (the baselines' stay at --max-len). Merged, tuned: U2U2I and U2I2I weights (U2I = 1) chosen on the validation users, test users scored once. Early stopping as everywhere (no epoch cap short of the maximum).");
        md.AppendLine();
        md.AppendLine("| lever | seeds | " + string.Join(" | ", channels.Select(c => $"{c} R@50")) + " | merged, tuned (weights) | best ÷ EASE | epochs (best) | ex/s |");
        md.AppendLine("|---|---|" + string.Concat(Enumerable.Repeat("---|", channels.Length + 4)));
        foreach (var (name, _, _) in ReproductionPlan.Levers)
        {
            var group = runs.Where(r => ReproductionPlan.LeverOf(r) == name).OrderBy(r => r.Seed).ToList();
            if (group.Count == 0)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {name["lever-".Length..]} | 0 | {string.Join(" | ", channels.Select(_ => "–"))} | – | – | – | – |");
                continue;
            }

            var tuned = group.Where(r => r.TunedMerge is not null).ToList();
            var tunedCell = tuned.Count == 0 ? "–"
                : $"{Format(MeanSd(tuned.Select(r => r.TunedMerge!.Test["Recall@50"])))} ({string.Join(", ", tuned.Select(r => string.Create(CultureInfo.InvariantCulture, $"1 : {r.TunedMerge!.WeightU2U2I:0.##} : {r.TunedMerge.WeightU2I2I:0.##}")).Distinct())})";
            // The best channel a serving system would pick (by mean test R@50 here: a reading, not a selection rule).
            var best = channels.Select(c => MeanSd(group.Select(r => r.Channels[c]["Recall@50"])).Mean)
                .Append(tuned.Count == 0 ? double.NaN : MeanSd(tuned.Select(r => r.TunedMerge!.Test["Recall@50"])).Mean)
                .Where(double.IsFinite).Max();
            var ratio = OverEase(best, ease);
            var epochs = string.Join(", ", group.Select(r => $"{r.Train.Epochs} ({r.Train.BestEpoch})"));
            var speed = string.Join(", ", group.Select(r => r.Train.ExamplesPerSecond.ToString("F0", CultureInfo.InvariantCulture)));
            md.AppendLine(CultureInfo.InvariantCulture, $"| {name["lever-".Length..]} | {group.Count} | {string.Join(" | ", channels.Select(c => Format(MeanSd(group.Select(r => r.Channels[c]["Recall@50"])))))} | {tunedCell} | {ratio} | {epochs} | {speed} |");
        }

        md.Append(EaseRow(ease, ["–"], channels.Select(_ => "Recall@50"), "–", "1.00×", "–", "–"));
        md.AppendLine();
        if (easeRecall is { } recall)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"EASE^R (tuned on validation users): R@50 {recall:F4}. Best ÷ EASE reads the best mean of the lever's channels (tuned merge included) on the test users.");
            md.AppendLine();
        }
    }
}
