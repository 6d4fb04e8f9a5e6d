using System.ComponentModel;
using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Evaluation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class EvalBaselineSettings : ProtocolSettings
{
    [CommandOption("--model <NAMES>")]
    [Description("Comma-separated baselines: mostpop, itemcf, usercf (default: all three).")]
    [DefaultValue("mostpop,itemcf,usercf")]
    public string Model { get; init; } = "mostpop,itemcf,usercf";

    public IReadOnlyList<string> Models => Model.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override ValidationResult Validate()
    {
        var result = base.Validate();
        if (!result.Successful)
        {
            return result;
        }

        var unknown = Models.FirstOrDefault(m => !Recommenders.Names.Contains(m, StringComparer.OrdinalIgnoreCase));
        return unknown is null ? ValidationResult.Success() : ValidationResult.Error($"--model '{unknown}' is unknown; use {string.Join(", ", Recommenders.Names)}.");
    }
}

/// <summary><c>mic eval baseline</c>: split a dataset by protocol and score the classic baselines.</summary>
public sealed class EvalBaselineCommand : Command<EvalBaselineSettings>
{
    public override int Execute(CommandContext context, EvalBaselineSettings settings, CancellationToken cancellationToken)
    {
        var dataset = CliData.Load(settings);
        var results = Run(settings, dataset, settings.Models, cancellationToken);
        AnsiConsole.Write(CliData.ResultsTable(results, Evaluator.DefaultCutoffs));
        CliData.Save(settings.OutDir("eval-baseline"), results);
        return 0;
    }

    internal static List<EvaluationResult> Run(ProtocolSettings settings, MIC.Streaming.Core.Data.InteractionDataset dataset, IReadOnlyList<string> models, CancellationToken cancellationToken)
    {
        var split = CliData.Split(dataset, settings);
        CliData.PrintSplit(dataset, split);
        var results = new List<EvaluationResult>();
        foreach (var name in models)
        {
            CliProgress.Run($"Evaluating {name}", bar =>
            {
                var recommender = Recommenders.Create(name);
                results.Add(Evaluator.Evaluate(recommender, split, onTest: !settings.OnValid, progress: new SynchronousProgress<double>(bar.Report), excludeHistory: settings.ExcludeHistory, cancellationToken: cancellationToken));
            });
        }

        return results;
    }
}
