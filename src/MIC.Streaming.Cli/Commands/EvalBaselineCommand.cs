using System.ComponentModel;
using System.Globalization;
using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Evaluation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class EvalBaselineSettings : ProtocolSettings
{
    [CommandOption("--model <NAMES>")]
    [Description("Comma-separated baselines: mostpop, itemcf, usercf, ease (default: all).")]
    [DefaultValue("mostpop,itemcf,usercf,ease")]
    public string Model { get; init; } = "mostpop,itemcf,usercf,ease";

    [CommandOption("--no-tune")]
    [Description("Use each baseline's default setting (itemcf 100 neighbours, usercf 50, ease λ 200) instead of choosing it on validation users.")]
    public bool NoTune { get; init; }

    [CommandOption("--setting <MODEL=VALUE>")]
    [Description("Fix one baseline's setting instead of tuning it, e.g. itemcf=all, usercf=100, ease=500 (repeatable).")]
    public string[] Settings { get; init; } = [];

    public IReadOnlyList<string> Models => Model.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>--setting values by model name.</summary>
    public IReadOnlyDictionary<string, string> Fixed => Settings
        .Select(s => s.Split('=', 2, StringSplitOptions.TrimEntries))
        .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty, StringComparer.OrdinalIgnoreCase);

    public override ValidationResult Validate()
    {
        var result = base.Validate();
        if (!result.Successful)
        {
            return result;
        }

        var unknown = Models.FirstOrDefault(m => !Recommenders.Names.Contains(m, StringComparer.OrdinalIgnoreCase));
        if (unknown is not null || Models.Count == 0)
        {
            return ValidationResult.Error($"--model '{unknown ?? Model}' is unknown; use {string.Join(", ", Recommenders.Names)}.");
        }

        foreach (var s in Settings)
        {
            var parts = s.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[1].Length == 0 || !Models.Contains(parts[0], StringComparer.OrdinalIgnoreCase))
            {
                return ValidationResult.Error($"--setting '{s}' must be MODEL=VALUE with MODEL one of --model ({string.Join(", ", Models)}).");
            }

            var error = Recommenders.Spec(parts[0]).Check(parts[1]);
            if (error is not null)
            {
                return ValidationResult.Error($"--setting '{s}': {error}");
            }
        }

        return ValidationResult.Success();
    }
}

/// <summary>
/// <c>mic eval baseline</c>: split a dataset by protocol and score the classic baselines, each with its
/// setting (neighbours, λ) chosen on the validation users unless fixed.
/// </summary>
public sealed class EvalBaselineCommand : Command<EvalBaselineSettings>
{
    public override int Execute(CommandContext context, EvalBaselineSettings settings, CancellationToken cancellationToken)
    {
        var dataset = CliData.Load(settings);
        var tuned = Run(settings, dataset, settings.Models, !settings.NoTune, settings.Fixed, cancellationToken);
        var results = tuned.Select(t => t.Result with { Model = t.Label }).ToList();
        AnsiConsole.Write(CliData.ResultsTable(results, Evaluator.DefaultCutoffs));
        AnsiConsole.Write(SettingsTable(tuned));
        CliData.Save(settings.OutDir("eval-baseline"), results);
        return 0;
    }

    /// <summary>Scores each baseline, tuning its setting on validation users when <paramref name="tune"/>.</summary>
    internal static List<TunedBaseline> Run(ProtocolSettings settings, MIC.Streaming.Core.Data.InteractionDataset dataset, IReadOnlyList<string> models, bool tune, IReadOnlyDictionary<string, string>? fixedValues, CancellationToken cancellationToken)
    {
        var split = CliData.Split(dataset, settings);
        CliData.PrintSplit(dataset, split);
        var results = new List<TunedBaseline>();
        foreach (var name in models)
        {
            var spec = Recommenders.Spec(name);
            string? fixedValue = null;
            fixedValues?.TryGetValue(name, out fixedValue);
            var what = spec.Tunable && tune && fixedValue is null ? $"Tuning {name} {spec.Setting} on validation users, then evaluating" : $"Evaluating {name}";
            TunedBaseline? tuned = null;
            CliProgress.Run(what, _ => tuned = TryRun(spec, split, tune, fixedValue, !settings.OnValid, settings.ExcludeHistory, cancellationToken));
            if (tuned is not null)
            {
                results.Add(tuned);
            }
        }

        return results;
    }

    /// <summary>
    /// <see cref="BaselineTuning.Run"/>, or null with a warning when the baseline cannot run on this
    /// dataset (EASE on a catalogue too large for its dense inverse); the other baselines still run.
    /// </summary>
    internal static TunedBaseline? TryRun(BaselineSpec spec, MIC.Streaming.Core.Splits.DatasetSplit split, bool tune, string? fixedValue, bool onTest, bool excludeHistory, CancellationToken cancellationToken)
    {
        try
        {
            return BaselineTuning.Run(spec, split, tune, fixedValue, onTest: onTest, excludeHistory: excludeHistory, cancellationToken: cancellationToken);
        }
        catch (BaselineNotApplicableException e)
        {
            AnsiConsole.MarkupLine($"[yellow]Skipped {Markup.Escape(spec.Name)}: {Markup.Escape(e.Message)}[/]");
            return null;
        }
    }

    /// <summary>The chosen value of every baseline's setting and each value's validation score.</summary>
    internal static Table SettingsTable(IEnumerable<TunedBaseline> tuned)
    {
        var table = new Table().Title($"[bold]Settings (validation {BaselineTuning.Metric} per value tried)[/]");
        table.AddColumn("model").AddColumn("setting").AddColumn("chosen").AddColumn("how").AddColumn("tried");
        foreach (var t in tuned)
        {
            var tried = string.Join("  ", t.Trials.Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Value}: {x.Score:F4}")));
            table.AddRow(Markup.Escape(t.Result.Model), Markup.Escape(t.Setting), Markup.Escape(t.Value), Markup.Escape(t.How), Markup.Escape(tried));
        }

        return table;
    }
}
