using System.ComponentModel;
using System.Globalization;
using MIC.Streaming.Reports;
using MIC.Streaming.Trainer;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class ReportSettings : CommandSettings
{
    [CommandOption("--store <DIR>")]
    [Description("Model store the trainer writes to (its online-metrics.csv is read).")]
    public string? Store { get; init; }

    [CommandOption("--metrics <CSV>")]
    [Description("An online metrics file (instead of --store).")]
    public string? Metrics { get; init; }

    [CommandOption("--out <PNG>")]
    [Description("Chart to write (folder created if missing).")]
    [DefaultValue("online-recall.png")]
    public string Out { get; init; } = "online-recall.png";

    public string MetricsPath => Metrics ?? Path.Combine(Store ?? "", "online-metrics.csv");

    public override ValidationResult Validate() =>
        Store is null && Metrics is null ? ValidationResult.Error("Give --store DIR (e.g. the folder `mic demo` prints) or --metrics CSV.")
        : Store is not null && !Directory.Exists(Store) ? ValidationResult.Error($"--store '{Store}' is not a folder.")
        : !File.Exists(MetricsPath) ? ValidationResult.Error($"{(Metrics is null ? "--store" : "--metrics")}: {MetricsPath} does not exist (the trainer writes it when it publishes its first version).")
        : Directory.Exists(Out) ? ValidationResult.Error($"--out '{Out}' is a folder; give a .png file path.")
        : ValidationResult.Success();
}

/// <summary>Plots the streaming trainer's prequential Recall@K per channel, updated vs frozen, with model-version change points.</summary>
public sealed class ReportCommand : Command<ReportSettings>
{
    public override int Execute(CommandContext context, ReportSettings settings, CancellationToken cancellationToken)
    {
        var rows = OnlineMetricsFile.Read(settings.MetricsPath);
        var points = OnlineRecallChart.Save(rows, settings.Out);
        var table = new Table().Border(TableBorder.Rounded).Title($"Online Recall@{rows[0].K}, events-weighted over the file")
            .AddColumn("Model").AddColumn("Channel").AddColumn(new TableColumn("Scored").RightAligned()).AddColumn(new TableColumn("Recall").RightAligned());
        foreach (var g in rows.GroupBy(r => (r.Model, r.Channel)).OrderBy(g => g.Key.Model).ThenBy(g => g.Key.Channel, StringComparer.Ordinal))
        {
            var n = g.Sum(r => r.Evaluated);
            var recall = n == 0 ? 0 : g.Sum(r => r.Recall * r.Evaluated) / n;
            table.AddRow(g.Key.Model, g.Key.Channel, n.ToString("N0", CultureInfo.InvariantCulture), recall.ToString("F4", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        // A version's row is written when the next version replaces it, so the newest one in the store
        // is serving but not scored yet.
        var scored = rows.Select(r => r.Version).Distinct().Order().ToArray();
        var newest = settings.Store is null ? (long?)null : MIC.Streaming.Grains.Serving.ModelStore.Versions(settings.Store).DefaultIfEmpty().Max();
        var pending = newest is { } latest && latest > scored[^1]
            ? $"; {(latest == scored[^1] + 1 ? $"v{latest} is" : $"v{scored[^1] + 1}–v{latest} are")} not scored yet (a version is scored when the next one replaces it)"
            : string.Empty;
        AnsiConsole.MarkupLine(Markup.Escape($"Wrote {settings.Out} ({points} points; {scored.Length} served version(s) scored, v{scored[0]}–v{scored[^1]}{pending})."));
        return 0;
    }
}
