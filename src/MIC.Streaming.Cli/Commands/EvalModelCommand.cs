using System.ComponentModel;
using MIC.Streaming.Core.Evaluation;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Model;
using MIC.Streaming.Model.Training;
using MIC.Streaming.Retrieval.Channels;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class EvalModelSettings : CommandSettings
{
    [CommandOption("--checkpoint <DIR>")]
    [Description("Checkpoint directory written by `mic train --checkpoint`.")]
    public string Checkpoint { get; init; } = string.Empty;

    [CommandOption("--valid")]
    [Description("Evaluate on the validation users instead of the test users.")]
    public bool OnValid { get; init; }

    [CommandOption("--exclude-history")]
    [Description("Remove the user's visible history items from every ranked list before scoring.")]
    public bool ExcludeHistory { get; init; }

    [CommandOption("--tune-merge")]
    [Description("Choose the merged channel's weights (U2U2I and U2I2I each of 0, 0.25, 0.5, 1, 2; U2I 1) on the validation users by Recall@50, then score with them beside the default 1:1:1.")]
    public bool TuneMerge { get; init; }

    [CommandOption("--own-space")]
    [Description("Serve U2I and the channels' user–item cosine from the own spaces, bypassing the shared-space heads the UI term trained (for checkpoints of variants with UI).")]
    public bool OwnSpace { get; init; }

    [CommandOption("--out <DIR>")]
    [Description("Folder for results.json and results.csv (created if missing).")]
    [DefaultValue("results/eval-model")]
    public string Out { get; init; } = "results/eval-model";

    public override ValidationResult Validate() =>
        Checkpoint.Length == 0 ? ValidationResult.Error("--checkpoint is required: a folder written by `mic train --checkpoint`.")
        : !Directory.Exists(Checkpoint) ? ValidationResult.Error($"--checkpoint '{Checkpoint}' is not a folder.")
        : !File.Exists(Path.Combine(Checkpoint, "manifest.json")) ? ValidationResult.Error($"--checkpoint '{Checkpoint}' has no manifest.json; is it a `mic train --checkpoint` folder?")
        : File.Exists(Out) ? ValidationResult.Error($"--out '{Out}' is a file; give a folder.")
        : TuneMerge && OnValid ? ValidationResult.Error("--tune-merge chooses the weights on the validation users, so it scores the test users: drop --valid.")
        : ValidationResult.Success();
}

/// <summary><c>mic eval model</c>: a checkpoint's U2I / U2U2I / U2I2I / merged metrics on its own split, beside MostPop and ItemCF.</summary>
public sealed class EvalModelCommand : Command<EvalModelSettings>
{
    public override int Execute(CommandContext context, EvalModelSettings settings, CancellationToken cancellationToken)
    {
        AnsiConsole.MarkupLine($"[grey]Loading checkpoint {Markup.Escape(settings.Checkpoint)}…[/]");
        var (model, tables, dataset, manifest) = MIC.Streaming.Model.Training.Checkpoint.Load(settings.Checkpoint);
        using (model)
        {
            if (settings.OwnSpace)
            {
                if (!model.TrainsSharedSpace)
                {
                    throw new CliException($"--own-space: checkpoint '{settings.Checkpoint}' ({ModelRuns.Name(manifest.Options)}) trained no shared space (no UI term), so it already serves from its own spaces.");
                }

                model.ServeOwnSpace = true;
            }

            var maxLen = manifest.Options.EncoderOptions.MaxLen;
            var split = manifest.Protocol == "leave-last-out"
                ? LeaveLastOutSplitter.Split(dataset, maxLen)
                : ComiRecSplitter.Split(dataset, manifest.SplitSeed, maxLen);
            CliData.PrintSplit(dataset, split);
            AnsiConsole.MarkupLine(Markup.Escape($"Scoring {(settings.OnValid ? split.Valid.Count : split.Test.Count):N0} {(settings.OnValid ? "validation" : "test")} users on U2I, U2U2I, U2I2I and merged, then MostPop and ItemCF (neighbours tuned on validation users)…"));
            var embeddings = new ModelEmbeddings(model, tables, maxLen);
            var label = ModelRuns.Name(manifest.Options) + (settings.OwnSpace ? " [own space]" : string.Empty);
            var results = ChannelEvaluation.EvaluateSplit(embeddings, split, label, ChannelEvaluation.Reported, new ChannelOptions(), onTest: !settings.OnValid, excludeHistory: settings.ExcludeHistory);
            if (settings.TuneMerge)
            {
                results.Add(TunedMerge(embeddings, split, label, settings.ExcludeHistory));
            }

            foreach (var name in new[] { "mostpop", "itemcf" })
            {
                var tuned = BaselineTuning.Run(MIC.Streaming.Core.Baselines.Recommenders.Spec(name), split, onTest: !settings.OnValid, excludeHistory: settings.ExcludeHistory, cancellationToken: cancellationToken);
                results.Add(tuned.Result with { Model = tuned.Label });
            }

            AnsiConsole.Write(CliData.ResultsTable(results, Evaluator.DefaultCutoffs));
            CliData.Save(settings.Out, results);
        }

        return 0;
    }

    /// <summary>The merged channel with weights chosen on the validation users, scored on the test users.</summary>
    private static EvaluationResult TunedMerge(ModelEmbeddings embeddings, DatasetSplit split, string name, bool excludeHistory)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var spaces = embeddings.BuildExactSpaces(split.Train);
        var (best, trials) = ChannelEvaluation.TuneMergeWeights(embeddings, spaces, split.Valid, new ChannelOptions());
        AnsiConsole.MarkupLine(Markup.Escape("Merged weights on validation users (U2U2I, U2I2I → R@50): " + string.Join(", ", trials.Select(t => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"({t.U2U2I}, {t.U2I2I}) {t.Recall50:F4}")))));
        var label = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{name} [Merged 1:{best.WeightU2U2I}:{best.WeightU2I2I}, tuned]");
        AnsiConsole.MarkupLine(Markup.Escape($"Chosen: {label}."));
        var metrics = ChannelEvaluation.Evaluate(embeddings, spaces, split.Test, ChannelSet.All, best, excludeHistory: excludeHistory);
        return new EvaluationResult(label, split.Dataset.Name, split.Protocol, metrics.Users, metrics.Means(), 0, watch.Elapsed.TotalSeconds);
    }
}
