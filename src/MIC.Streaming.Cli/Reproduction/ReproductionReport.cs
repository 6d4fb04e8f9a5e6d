using System.Globalization;
using System.Text;
using MIC.Streaming.Core.Evaluation;
using MIC.Streaming.Reports;

namespace MIC.Streaming.Cli.Reproduction;

/// <summary>
/// Writes the reproduction's tables (markdown and CSV, mean ± sd over the finished seeds) and
/// Figure 4's PNGs from the finished runs and the tuned baselines. Cells still to train are listed,
/// never filled in.
/// </summary>
public static partial class ReproductionReport
{
    private static readonly string[] Table2Metrics = ["Recall@20", "Recall@50", "NDCG@20", "NDCG@50", "NDCG(ComiRec)@20", "NDCG(ComiRec)@50", "HitRate@20", "HitRate@50"];

    public static string Write(string outDir, string dataset, ReproductionParts parts, IReadOnlyList<ReproductionRunSpec> plan, IReadOnlyList<ReproductionRunResult> finished, IReadOnlyList<TunedBaseline> baselines)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(finished);
        ArgumentNullException.ThrowIfNull(baselines);
        var keys = plan.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        var runs = finished.Where(r => keys.Contains(r.Key)).ToList();
        var pending = plan.Where(p => runs.All(r => r.Key != p.Key)).ToList();
        var ease = baselines.FirstOrDefault(b => b.Result.Model == "EASE");
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Reproduction on {dataset}");
        md.AppendLine();
        if (plan.Count > 0)
        {
            var o = plan[0].Options;
            md.AppendLine(CultureInfo.InvariantCulture, $"Objective: softmax weight {o.Mic.SoftmaxWeight} ({(o.Mic.SoftmaxWeight == 0 ? "logistic loss only" : o.Mic.SampledNegatives > 0 ? $"sampled softmax, {o.Mic.SampledNegatives} negatives" : "in-batch softmax")}) + logistic weight {o.Mic.LogisticWeight}; UU/II form {o.Mic.SameSideForm}; support set from step {o.Mic.SupportWarmupSteps}, refreshed every {o.Mic.SupportRefreshSteps}; λ {o.Mic.Lambda}, τ {o.Mic.Temperature}; batch {o.BatchSize}, lr {o.LearningRate}, dim {o.EncoderOptions.Dimension}, max-len {o.EncoderOptions.MaxLen}; at most {o.MaxEpochs} epochs, early stop after {o.Patience} without a better validation R@50 on {(o.ValidationUsers == 0 ? "all" : o.ValidationUsers.ToString(CultureInfo.InvariantCulture))} validation users.");
            md.AppendLine();
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"Runs finished: {runs.Count} of {plan.Count}.{(pending.Count == 0 ? string.Empty : " Still to train: " + string.Join(", ", pending.Select(p => $"{p.Model} seed {p.Seed}")) + ".")}");
        md.AppendLine();
        var csv = new StringBuilder("model,encoder,variant,seed,channel,epochs,best_epoch,examples_per_second," + string.Join(',', Table2Metrics) + ",alignment,user_uniformity,item_uniformity,interest_cosine\n");
        foreach (var r in runs)
        {
            foreach (var (channel, metrics) in r.Channels)
            {
                csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{r.Model},{r.Encoder},{r.Variant},{r.Seed},{channel},{r.Train.Epochs},{r.Train.BestEpoch},{r.Train.ExamplesPerSecond:F0},{string.Join(',', Table2Metrics.Select(m => metrics[m].ToString("F6", CultureInfo.InvariantCulture)))},{r.Representation.Alignment:F6},{r.Representation.UserUniformity:F6},{r.Representation.ItemUniformity:F6},{r.Representation.InterestCosine?.ToString("F6", CultureInfo.InvariantCulture)}"));
            }
        }

        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "runs.csv"), csv.ToString());

        var paperRuns = runs.Where(r => r.Piece is null).ToList();
        if (parts.HasFlag(ReproductionParts.Table2))
        {
            Table2(md, outDir, paperRuns, baselines, ease);
        }

        if (parts.HasFlag(ReproductionParts.Table3) || parts.HasFlag(ReproductionParts.Figure4))
        {
            Table3(md, paperRuns, ease);
        }

        if (parts.HasFlag(ReproductionParts.Figure4))
        {
            Figure4(md, outDir, dataset, paperRuns, ease);
        }

        if (parts.HasFlag(ReproductionParts.Pieces))
        {
            Pieces(md, runs, plan, ease);
        }

        if (parts.HasFlag(ReproductionParts.Lambda))
        {
            Lambda(md, runs, ease);
        }

        if (parts.HasFlag(ReproductionParts.Levers))
        {
            Levers(md, runs, ease);
        }

        OwnSpace(md, runs, ease);
        Diagnostics(md, runs);
        Baselines(md, baselines);
        var path = Path.Combine(outDir, "REPRODUCTION.md");
        File.WriteAllText(path, md.ToString());
        return path;
    }

    private static void Table2(StringBuilder md, string outDir, List<ReproductionRunResult> runs, IReadOnlyList<TunedBaseline> baselines, TunedBaseline? ease)
    {
        md.AppendLine("## Table 2: every encoder, vanilla vs +MIC (test users; mean ± sd over seeds)");
        md.AppendLine();
        md.AppendLine("| model | channel | seeds | " + string.Join(" | ", Table2Metrics) + " | R@50 ÷ EASE |");
        md.AppendLine("|---|---|---|" + string.Concat(Table2Metrics.Select(_ => "---|")) + "---|");
        var rows = runs.Where(r => r.Variant is "base" or "full")
            .OrderBy(r => EncoderOrder(r.Encoder)).ThenBy(r => r.Variant == "full")
            .GroupBy(r => r.Model);
        var csv = new StringBuilder("model,channel,seeds," + string.Join(',', Table2Metrics.SelectMany(m => new[] { m + "_mean", m + "_sd" })) + ",recall50_over_ease\n");
        foreach (var g in rows)
        {
            foreach (var channel in new[] { "U2I", "Merged" })
            {
                var cells = Table2Metrics.Select(m => MeanSd(g.Select(r => r.Channels[channel][m]))).ToArray();
                var ratio = OverEase(cells[1].Mean, ease);
                md.AppendLine(CultureInfo.InvariantCulture, $"| {g.Key} | {channel} | {g.Count()} | {string.Join(" | ", cells.Select(Format))} | {ratio} |");
                csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{g.Key},{channel},{g.Count()},{string.Join(',', cells.Select(c => $"{c.Mean:F6},{c.Sd:F6}"))},{(ease is null ? string.Empty : (cells[1].Mean / ease.Result.Metrics["Recall@50"]).ToString("F4", CultureInfo.InvariantCulture))}"));
            }
        }

        foreach (var b in baselines)
        {
            var ratio = OverEase(b.Result.Metrics["Recall@50"], ease);
            md.AppendLine(CultureInfo.InvariantCulture, $"| {b.Label} | – | – | {string.Join(" | ", Table2Metrics.Select(m => b.Result.Metrics[m].ToString("F4", CultureInfo.InvariantCulture)))} | {ratio} |");
        }

        File.WriteAllText(Path.Combine(outDir, "table2.csv"), csv.ToString());
        md.AppendLine();
        md.AppendLine("NDCG is the textbook definition (IDCG over min(|targets|, N)); NDCG(ComiRec) is ComiRec's `evaluate_full` (discount by the target's position in the target list, IDCG over the hits).");
        md.AppendLine();
        md.AppendLine("MIC's gain per encoder (U2I R@50, mean over seeds):");
        md.AppendLine();
        foreach (var encoder in runs.Select(r => r.Encoder).Distinct().OrderBy(EncoderOrder))
        {
            var vanilla = runs.Where(r => r.Encoder == encoder && r.Variant == "base").ToList();
            var full = runs.Where(r => r.Encoder == encoder && r.Variant == "full").ToList();
            if (vanilla.Count > 0 && full.Count > 0)
            {
                var v = MeanSd(vanilla.Select(r => r.Channels["U2I"]["Recall@50"]));
                var f = MeanSd(full.Select(r => r.Channels["U2I"]["Recall@50"]));
                md.AppendLine(CultureInfo.InvariantCulture, $"- {encoder}: {Format(v)} → {Format(f)} ({(f.Mean / v.Mean - 1) * 100:+0.0;−0.0} %, {vanilla.Count}/{full.Count} seeds)");
            }
        }

        md.AppendLine();
    }

    private static void Table3(StringBuilder md, List<ReproductionRunResult> runs, TunedBaseline? ease)
    {
        string[] channels = ["U2I", "U2U2I", "U2I2I", "Merged"];
        var dssm = runs.Where(r => r.Encoder == "dssm").ToList();
        md.AppendLine("## Table 3: DSSM, each contrastive channel alone, every inference channel (test R@50 and NDCG@50, mean ± sd)");
        md.AppendLine();
        md.AppendLine("| variant | seeds | " + string.Join(" | ", channels.Select(c => $"{c} R@50")) + " | " + string.Join(" | ", channels.Select(c => $"{c} NDCG@50")) + " | best R@50 ÷ EASE |");
        md.AppendLine("|---|---|" + string.Concat(Enumerable.Repeat("---|", (channels.Length * 2) + 1)));
        foreach (var variant in ReproductionPlan.Table3Variants.Select(v => v.ToString().ToLowerInvariant()))
        {
            var g = dssm.Where(r => r.Variant == variant).ToList();
            if (g.Count == 0)
            {
                continue;
            }

            md.AppendLine(CultureInfo.InvariantCulture, $"| {(variant == "base" ? "vanilla" : "MIC-" + variant.ToUpperInvariant())} | {g.Count} | {string.Join(" | ", channels.Select(c => Format(MeanSd(g.Select(r => r.Channels[c]["Recall@50"])))))} | {string.Join(" | ", channels.Select(c => Format(MeanSd(g.Select(r => r.Channels[c]["NDCG@50"])))))} | {OverEase(channels.Max(c => MeanSd(g.Select(r => r.Channels[c]["Recall@50"])).Mean), ease)} |");
        }

        md.Append(EaseRow(ease, ["–"], channels.Select(_ => "Recall@50").Concat(channels.Select(_ => "NDCG@50")), "1.00×"));
        md.AppendLine();
        md.AppendLine("Does each contrastive channel win its own inference channel against vanilla (R@50)?");
        md.AppendLine();
        var vanilla = dssm.Where(r => r.Variant == "base").ToList();
        foreach (var (variant, channel) in new[] { ("ui", "U2I"), ("uu", "U2U2I"), ("ii", "U2I2I"), ("full", "Merged") })
        {
            var g = dssm.Where(r => r.Variant == variant).ToList();
            if (g.Count == 0 || vanilla.Count == 0)
            {
                continue;
            }

            var v = MeanSd(vanilla.Select(r => r.Channels[channel]["Recall@50"]));
            var x = MeanSd(g.Select(r => r.Channels[channel]["Recall@50"]));
            var verdict = g.Count < 2 || vanilla.Count < 2
                ? (x.Mean > v.Mean ? "higher (one seed: no spread yet)" : "no (one seed)")
                : x.Mean - x.Sd > v.Mean + v.Sd ? "yes (beyond 1 sd)" : x.Mean > v.Mean ? "higher, within the spread" : "no";
            md.AppendLine(CultureInfo.InvariantCulture, $"- MIC-{variant.ToUpperInvariant()} on {channel}: {Format(x)} vs vanilla {Format(v)} → {verdict}");
        }

        md.AppendLine();
    }

    private static void Figure4(StringBuilder md, string outDir, string dataset, List<ReproductionRunResult> runs, TunedBaseline? ease)
    {
        var dssm = runs.Where(r => r.Encoder == "dssm").ToList();
        md.AppendLine("## Figure 4: alignment and uniformity (U2I space, test users; lower is better) against Recall@50");
        md.AppendLine();
        md.AppendLine("| variant | seeds | alignment | user uniformity | item uniformity | U2I R@50 |");
        md.AppendLine("|---|---|---|---|---|---|");
        var points = new List<GeometryPoint>();
        foreach (var variant in ReproductionPlan.Table3Variants.Select(v => v.ToString().ToLowerInvariant()))
        {
            var g = dssm.Where(r => r.Variant == variant).ToList();
            if (g.Count == 0)
            {
                continue;
            }

            var label = variant == "base" ? "vanilla" : "MIC-" + variant.ToUpperInvariant();
            var a = MeanSd(g.Select(r => r.Representation.Alignment));
            var uu = MeanSd(g.Select(r => r.Representation.UserUniformity));
            var iu = MeanSd(g.Select(r => r.Representation.ItemUniformity));
            var rec = MeanSd(g.Select(r => r.Channels["U2I"]["Recall@50"]));
            md.AppendLine(CultureInfo.InvariantCulture, $"| {label} | {g.Count} | {Format(a)} | {Format(uu)} | {Format(iu)} | {Format(rec)} |");
            points.Add(new GeometryPoint(label, a.Mean, uu.Mean, iu.Mean, rec.Mean));
        }

        // EASE has no embeddings to measure: its recall is the floor the geometry's recall stands beside.
        md.Append(EaseRow(ease, ["–", "–", "–", "–"], ["Recall@50"]));
        md.AppendLine();
        if (points.Count > 0)
        {
            ReproductionCharts.SaveGeometry(points, Path.Combine(outDir, "figure4-geometry.png"), $"{dataset}: DSSM variants, alignment vs item uniformity (label: U2I Recall@50)");
            md.AppendLine("![alignment vs uniformity](figure4-geometry.png)");
            md.AppendLine();
        }

        var curves = new List<GeometryCurve>();
        foreach (var variant in new[] { "base", "full" })
        {
            var run = dssm.Where(r => r.Variant == variant).OrderBy(r => r.Seed).FirstOrDefault();
            if (run is { Epochs.Count: > 0 })
            {
                curves.Add(new GeometryCurve(
                    $"{(variant == "base" ? "vanilla" : "MIC")} (seed {run.Seed})",
                    [.. run.Epochs.Select(e => e.Epoch)],
                    [.. run.Epochs.Select(e => e.Representation.Alignment)],
                    [.. run.Epochs.Select(e => e.Representation.ItemUniformity)],
                    [.. run.Epochs.Select(e => e.ValidRecall50)]));
            }
        }

        if (curves.Count > 0)
        {
            ReproductionCharts.SaveCurves(curves, Path.Combine(outDir, "figure4-epochs.png"), $"{dataset}: DSSM alignment and item uniformity after each epoch (validation users)");
            md.AppendLine("![geometry over epochs](figure4-epochs.png)");
            md.AppendLine();
            md.AppendLine("| series | epoch | valid R@50 | alignment | item uniformity |");
            md.AppendLine("|---|---|---|---|---|");
            foreach (var c in curves)
            {
                for (var i = 0; i < c.Epochs.Length; i++)
                {
                    md.AppendLine(CultureInfo.InvariantCulture, $"| {c.Label} | {c.Epochs[i]} | {c.ValidRecall50[i]:F4} | {c.Alignment[i]:F3} | {c.ItemUniformity[i]:F3} |");
                }
            }

            md.AppendLine();
        }
    }

    private static void Pieces(StringBuilder md, List<ReproductionRunResult> runs, IReadOnlyList<ReproductionRunSpec> plan, TunedBaseline? ease)
    {
        string[] channels = ["U2I", "U2U2I", "U2I2I", "Merged"];
        var full = runs.Where(r => r.Encoder == "dssm" && r.Variant == "full" && r.Piece is null).ToList();
        md.AppendLine("## The missing pieces (issue item 4): DSSM + full MIC with each switched on (test R@50, mean ± sd)");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"cross-positives: UI also contrasts each user with one of its {full.FirstOrDefault()?.Options.Mic.SupportNeighbours ?? 10} nearest items and each item with one of its nearest train users (relevance space, mined at every support refresh). hard-negatives: {ReproductionPlan.PieceHardNegatives} negatives per UU/II anchor from the k-means clusters nearest to its own (√rows clusters). user-id-field: the user id as a maskable user field (train users; held-out users embed it as padding). item-user-field: each item's interaction record, {ReproductionPlan.PieceItemUserSlots} of its train users mean-embedded, as a maskable item field. exact-support (item 3, not a piece of the paper): every support-set neighbour search exact instead of approximate above {full.FirstOrDefault()?.Options.Mic.SupportExactBelow ?? 4096:N0} rows (see the diagnostics' neighbour recall). pairwise-uu-ii and support-from-step-0 (items 2 and 3, not pieces of the paper): the other reading of each alone — UU/II with N−1 negatives each way instead of NT-Xent's 2(N−1), the support set built at step 0 instead of after the warm-up. all-pieces: the four pieces together.");
        md.AppendLine();
        md.AppendLine("| run | seeds | " + string.Join(" | ", channels.Select(c => $"{c} R@50")) + " | U2I ÷ full MIC (same seeds) | merged ÷ EASE | epochs (best) |");
        md.AppendLine("|---|---|" + string.Concat(Enumerable.Repeat("---|", channels.Length + 3)));
        // A piece that changes nothing under this reproduction's reading (pairwise-uu-ii under the in-batch
        // reading, say) has the full-MIC run's key, so the plan holds no run of its own for it.
        var planned = plan.Select(p => p.Piece).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, isPiece, group) in new[] { ("full MIC (no piece)", false, full) }
            .Concat(ReproductionPlan.Pieces.Select(p => (p.Name, true, runs.Where(r => r.Piece == p.Name).ToList()))))
        {
            if (group.Count == 0)
            {
                var why = isPiece && !planned.Contains(name) ? "this reading already trains it this way: the full MIC row" : "–";
                md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | 0 | {why} | {string.Join(" | ", channels.Skip(1).Select(_ => "–"))} | – | – | – |");
                continue;
            }

            var u2i = MeanSd(group.Select(r => r.Channels["U2I"]["Recall@50"]));
            // Against full MIC on the same seeds only (seeds finish at different times).
            var sameSeeds = full.Where(f => group.Any(r => r.Seed == f.Seed)).ToList();
            var reference = sameSeeds.Count == 0 ? double.NaN : MeanSd(sameSeeds.Select(r => r.Channels["U2I"]["Recall@50"])).Mean;
            var merged = MeanSd(group.Select(r => r.Channels["Merged"]["Recall@50"]));
            var epochs = string.Join(", ", group.Select(r => $"{r.Train.Epochs} ({r.Train.BestEpoch})"));
            md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {group.Count} | {string.Join(" | ", channels.Select(c => Format(MeanSd(group.Select(r => r.Channels[c]["Recall@50"])))))} | {u2i.Mean / reference:F3}× | {OverEase(merged.Mean, ease)} | {epochs} |");
        }

        md.Append(EaseRow(ease, ["–"], channels.Select(_ => "Recall@50"), "–", "1.00×", "–"));
        md.AppendLine();
    }

    /// <summary>The encoder question's λ: vanilla, λ 0.1, 0.3 and the paper's 0.7 per encoder.</summary>
    private static void Lambda(StringBuilder md, List<ReproductionRunResult> runs, TunedBaseline? ease)
    {
        md.AppendLine("## The encoder question: MIC's weight λ (test R@50, mean ± sd over seeds)");
        md.AppendLine();
        md.AppendLine($"| encoder | channel | vanilla | {string.Join(" | ", ReproductionPlan.Lambdas.Select(l => l.Name.Replace("lambda-", "λ ", StringComparison.Ordinal)))} | λ 0.7 (the paper's; Table 2) |");
        md.AppendLine("|---|---|---|" + string.Concat(ReproductionPlan.Lambdas.Select(_ => "---|")) + "---|");
        foreach (var encoder in ReproductionPlan.LambdaEncoders)
        {
            var groups = ReproductionPlan.Lambdas.Select(l => runs.Where(r => r.Encoder == encoder && r.Piece == l.Name).ToList())
                .Prepend(runs.Where(r => r.Encoder == encoder && r.Variant == "base" && r.Piece is null).ToList())
                .Append(runs.Where(r => r.Encoder == encoder && r.Variant == "full" && r.Piece is null).ToList())
                .ToList();
            if (groups.All(g => g.Count == 0))
            {
                continue;
            }

            foreach (var channel in new[] { "U2I", "Merged" })
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {encoder} | {channel} | {string.Join(" | ", groups.Select(g => g.Count == 0 ? "–" : $"{Format(MeanSd(g.Select(r => r.Channels[channel]["Recall@50"])))} ({g.Count})"))} |");
            }
        }

        md.Append(EaseRow(ease, ["–"], Enumerable.Repeat("Recall@50", ReproductionPlan.Lambdas.Count + 2)));
        md.AppendLine();
        md.AppendLine("(n): seeds finished. λ weighs the contrastive terms against the logistic base loss.");
        md.AppendLine();
    }

    /// <summary>The encoder question's serving reading: the same checkpoints scored from the shared space (as trained) and from the own spaces.</summary>
    private static void OwnSpace(StringBuilder md, List<ReproductionRunResult> runs, TunedBaseline? ease)
    {
        string[] channels = ["U2I", "U2U2I", "U2I2I", "Merged"];
        var measured = runs.Where(r => r.OwnSpaceChannels is not null).ToList();
        if (measured.Count == 0)
        {
            return;
        }

        md.AppendLine("## Serving a +MIC model from the shared space (as trained) or from its own spaces (test R@50, mean ± sd)");
        md.AppendLine();
        md.AppendLine("The same weights scored twice: U2I and the user–item cosine that ranks U2U2I and U2I2I read the shared-space heads (as trained), or bypass them. U2U and I2I neighbours are own-space either way.");
        md.AppendLine();
        md.AppendLine("| model | seeds | " + string.Join(" | ", channels.Select(c => $"{c} shared → own")) + " | U2I own ÷ shared |");
        md.AppendLine("|---|---|" + string.Concat(Enumerable.Repeat("---|", channels.Length + 1)));
        foreach (var g in measured.OrderBy(r => EncoderOrder(r.Encoder)).ThenBy(r => r.Variant).ThenBy(r => r.Piece).GroupBy(r => r.Model))
        {
            var shared = MeanSd(g.Select(r => r.Channels["U2I"]["Recall@50"]));
            var own = MeanSd(g.Select(r => r.OwnSpaceChannels!["U2I"]["Recall@50"]));
            md.AppendLine(CultureInfo.InvariantCulture, $"| {g.Key} | {g.Count()} | {string.Join(" | ", channels.Select(c => $"{Format(MeanSd(g.Select(r => r.Channels[c]["Recall@50"])))} → {Format(MeanSd(g.Select(r => r.OwnSpaceChannels![c]["Recall@50"])))}"))} | {own.Mean / shared.Mean:F3}× |");
        }

        md.Append(EaseRow(ease, ["–"], channels.Select(_ => "Recall@50"), "–"));
        md.AppendLine();
    }

    private static void Diagnostics(StringBuilder md, List<ReproductionRunResult> runs)
    {
        md.AppendLine("## Diagnostics");
        md.AppendLine();
        md.AppendLine("| model | seed | epochs (best) | ex/s | interest cosine | interest-weight entropy | support-set neighbour recall | U2I R@50 over 3 evaluations |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var r in runs.OrderBy(r => EncoderOrder(r.Encoder)).ThenBy(r => r.Variant).ThenBy(r => r.Seed))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Model} | {r.Seed} | {r.Train.Epochs} ({r.Train.BestEpoch}) | {r.Train.ExamplesPerSecond:F0} | {(r.Representation.InterestCosine is { } c ? c.ToString("F3", CultureInfo.InvariantCulture) : "–")} | {(r.Representation.InterestEntropy is { } e ? e.ToString("F3", CultureInfo.InvariantCulture) : "–")} | {r.SupportRecall ?? "–"} | {string.Join(" / ", r.RepeatedRecall50.Select(x => x.ToString("F4", CultureInfo.InvariantCulture)))} |");
        }

        md.AppendLine();
        md.AppendLine("Interest cosine: mean pairwise cosine between a test user's K own-space interests (lower = more diverse). Interest-weight entropy (normalised, 0–1): ComiRec-SA, each interest's attention over the history (1 = reads the whole history evenly); ComiRec-DR, each history item's routing over the K interests (1 = feeds every interest equally, i.e. no specialisation); – for single-interest encoders and runs trained before it was measured. A best epoch equal to the epochs trained means the run was still improving at the cap.");
        md.AppendLine();
    }

    private static void Baselines(StringBuilder md, IReadOnlyList<TunedBaseline> baselines)
    {
        md.AppendLine("## Baseline settings (chosen on validation users)");
        md.AppendLine();
        md.AppendLine("| baseline | setting | chosen | how | validation R@50 per value |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var b in baselines)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {b.Result.Model} | {b.Setting} | {b.Value} | {b.How} | {string.Join(", ", b.Trials.Select(t => $"{t.Value}: {t.Score:F4}"))} |");
        }

        md.AppendLine();
    }

    private static int EncoderOrder(string encoder) => encoder switch
    {
        "dssm" => 0,
        "youtubednn" => 1,
        "comirec-sa" => 2,
        "comirec-dr" => 3,
        _ => 4,
    };

    private static (double Mean, double Sd) MeanSd(IEnumerable<double> values)
    {
        var v = values.ToArray();
        if (v.Length == 0)
        {
            return (double.NaN, double.NaN);
        }

        var mean = v.Average();
        var sd = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
        return (mean, sd);
    }

    private static string Format((double Mean, double Sd) c) => string.Create(CultureInfo.InvariantCulture, $"{c.Mean:F4} ± {c.Sd:F4}");
}
