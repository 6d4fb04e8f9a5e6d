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
    [Description("Chart to write.")]
    [DefaultValue("online-recall.png")]
    public string Out { get; init; } = "online-recall.png";

    public string MetricsPath => Metrics ?? Path.Combine(Store ?? "", "online-metrics.csv");

    public override ValidationResult Validate() =>
        Store is null && Metrics is null ? ValidationResult.Error("Give --store DIR or --metrics CSV.")
        : !File.Exists(MetricsPath) ? ValidationResult.Error($"{MetricsPath} does not exist (the trainer writes it at its first publish).")
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
        AnsiConsole.MarkupLine($"Wrote {Markup.Escape(settings.Out)} ({points} points, {rows.Select(r => r.Version).Distinct().Count()} served versions).");
        return 0;
    }
}
