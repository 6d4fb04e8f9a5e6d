using System.ComponentModel;
using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Evaluation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class DemoSettings : ProtocolSettings
{
}

/// <summary>
/// <c>mic demo</c>: the main job on a fresh machine. Today it generates the planted synthetic data
/// (or loads --data), splits it with the ComiRec protocol and prints the baseline table.
/// </summary>
public sealed class DemoCommand : Command<DemoSettings>
{
    public override int Execute(CommandContext context, DemoSettings settings, CancellationToken cancellationToken)
    {
        AnsiConsole.Write(new Rule("[bold]MIC.Streaming demo[/]"));
        var dataset = CliData.Load(settings);
        CliData.PrintStats(dataset);
        var results = EvalBaselineCommand.Run(settings, dataset, Recommenders.Names, cancellationToken);
        AnsiConsole.Write(CliData.ResultsTable(results, Evaluator.DefaultCutoffs));
        CliData.Save(settings.Out, results);
        return 0;
    }
}
