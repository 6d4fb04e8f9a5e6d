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
        CliData.Save(settings.Out, results);
        return 0;
    }

    internal static List<EvaluationResult> Run(ProtocolSettings settings, MIC.Streaming.Core.Data.InteractionDataset dataset, IReadOnlyList<string> models, CancellationToken cancellationToken)
    {
        var split = CliData.Split(dataset, settings);
        AnsiConsole.MarkupLine($"[grey]{dataset.Name}: {dataset.UserCount} users, {dataset.ItemCount} items, {dataset.InteractionCount} interactions; protocol {split.Protocol}: {split.TrainUserCount} train users, {split.Valid.Count} valid, {split.Test.Count} test (dropped {split.DroppedEvalUsers}).[/]");
        var results = new List<EvaluationResult>();
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                foreach (var name in models)
                {
                    var task = ctx.AddTask($"Evaluating {name}", maxValue: 1.0);
                    var recommender = Recommenders.Create(name);
                    results.Add(Evaluator.Evaluate(recommender, split, onTest: !settings.OnValid, progress: new Progress<double>(f => task.Value = f), excludeHistory: settings.ExcludeHistory, cancellationToken: cancellationToken));
                    task.Value = 1.0;
                }
            });
        return results;
    }
}
