using System.ComponentModel;
using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Evaluation;
using MIC.Streaming.Model;
using MIC.Streaming.Model.Training;
using MIC.Streaming.Retrieval.Channels;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class OfflineDemoSettings : TrainSettings
{
    [CommandOption("--skip-model")]
    [Description("Only evaluate the baselines (no MIC training).")]
    public bool SkipModel { get; init; }

    [CommandOption("--demo-epochs <N>")]
    [Description("Epochs of the demo's DSSM+MIC training (kept short so the demo finishes in about a minute).")]
    [DefaultValue(3)]
    public int DemoEpochs { get; init; } = 3;

    public override ValidationResult Validate()
    {
        var baseResult = base.Validate();
        return baseResult.Successful ? CliValidation.FirstError(CliValidation.AtLeast("--demo-epochs", DemoEpochs, 1)) : baseResult;
    }
}

/// <summary>
/// <c>mic offline-demo</c>: the offline half of the live demo (<c>mic demo</c>) without Kafka, Orleans
/// or HTTP. Generates the planted synthetic data (or loads --data), splits it with the ComiRec
/// protocol, evaluates the tuned baselines, trains a short DSSM+MIC and prints every channel beside them.
/// </summary>
public sealed class OfflineDemoCommand : Command<OfflineDemoSettings>
{
    public override int Execute(CommandContext context, OfflineDemoSettings settings, CancellationToken cancellationToken)
    {
        AnsiConsole.Write(new Rule("[bold]MIC.Streaming offline demo[/]"));
        var dataset = CliData.Load(settings);
        CliData.PrintStats(dataset);
        var tuned = EvalBaselineCommand.Run(settings, dataset, Recommenders.Names, tune: true, fixedValues: null, cancellationToken);
        var results = tuned.Select(t => t.Result with { Model = t.Label }).ToList();
        if (!settings.SkipModel)
        {
            TorchRuntime.Initialize(new TorchOptions { Threads = settings.Threads });
            var split = CliData.Split(dataset, settings);
            var options = settings.ToOptions() with { MaxEpochs = settings.DemoEpochs };
            var (_, embeddings, trainer) = ModelRuns.Train(dataset, split, options, cancellationToken);
            using (trainer)
            {
                results.InsertRange(0, ChannelEvaluation.EvaluateSplit(embeddings, split, ModelRuns.Name(options), ChannelEvaluation.Reported, new ChannelOptions(), excludeHistory: settings.ExcludeHistory, buildSpaces: ModelRuns.SpacesFor(settings.Index)));
            }
        }

        AnsiConsole.Write(CliData.ResultsTable(results, Evaluator.DefaultCutoffs));
        AnsiConsole.Write(EvalBaselineCommand.SettingsTable(tuned));
        CliData.Save(settings.OutDir("offline-demo"), results);
        return 0;
    }
}
