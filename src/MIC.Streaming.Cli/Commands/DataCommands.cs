using System.ComponentModel;
using System.Globalization;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Synthetic;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

/// <summary><c>mic data stats</c>.</summary>
public sealed class DataStatsCommand : Command<DataSettings>
{
    public override int Execute(CommandContext context, DataSettings settings, CancellationToken cancellationToken)
    {
        CliData.PrintStats(CliData.Load(settings));
        return 0;
    }
}

public sealed class DataImportSettings : DataSettings
{
    [CommandOption("--out <FILE>")]
    [Description("Write a compact binary snapshot (.micds) that every command reads back with --format micds (folder created if missing). Without it only the statistics are printed.")]
    public string? Out { get; init; }

    public override ValidationResult Validate()
    {
        var result = base.Validate();
        return !result.Successful ? result : CliValidation.FirstError(CliValidation.OutputFile("--out", Out));
    }
}

/// <summary><c>mic data import</c>: import, report, optionally write a snapshot.</summary>
public sealed class DataImportCommand : Command<DataImportSettings>
{
    public override int Execute(CommandContext context, DataImportSettings settings, CancellationToken cancellationToken)
    {
        var dataset = CliData.Load(settings);
        CliData.PrintStats(dataset);
        if (settings.Out is null)
        {
            AnsiConsole.MarkupLine("[yellow]Nothing written: add --out FILE.micds to save a snapshot that --format micds reads back.[/]");
        }
        else
        {
            CliValidation.EnsureParent(settings.Out);
            DatasetSnapshot.Save(dataset, settings.Out);
            AnsiConsole.MarkupLine($"Wrote [green]{Markup.Escape(settings.Out)}[/] ({new FileInfo(settings.Out).Length / 1048576.0:F1} MiB).");
        }

        return 0;
    }
}

public sealed class DataGenerateSettings : CommandSettings
{
    [CommandOption("--out <FILE>")]
    [Description("Output CSV in Taobao UserBehavior format (user,item,category,pv,timestamp).")]
    [DefaultValue("synthetic_UserBehavior.csv")]
    public string Out { get; init; } = "synthetic_UserBehavior.csv";

    [CommandOption("--users <N>")]
    [Description("Number of users.")]
    [DefaultValue(3000)]
    public int Users { get; init; } = 3000;

    [CommandOption("--items <N>")]
    [Description("Number of items.")]
    [DefaultValue(2000)]
    public int Items { get; init; } = 2000;

    [CommandOption("--categories <N>")]
    [Description("Number of item categories (user interests are drawn from these).")]
    [DefaultValue(20)]
    public int Categories { get; init; } = 20;

    [CommandOption("--mean-length <N>")]
    [Description("Mean sequence length per user.")]
    [DefaultValue(20)]
    public int MeanLength { get; init; } = 20;

    [CommandOption("--drift <P>")]
    [Description("Per-click probability that a user's interest drifts to another category.")]
    [DefaultValue(0.02)]
    public double Drift { get; init; } = 0.02;

    [CommandOption("--seed <SEED>")]
    [Description("Generator seed.")]
    [DefaultValue(42)]
    public int Seed { get; init; } = 42;

    public override ValidationResult Validate() => CliValidation.FirstError(
        CliValidation.OutputFile("--out", Out),
        CliValidation.AtLeast("--users", Users, 10),
        CliValidation.AtLeast("--items", Items, 10),
        CliValidation.AtLeast("--categories", Categories, 1),
        CliValidation.AtLeast("--mean-length", MeanLength, 2),
        Drift is < 0 or > 1 || double.IsNaN(Drift) ? ValidationResult.Error($"--drift {Drift} is out of range; it must be within 0..1.") : null);
}

/// <summary><c>mic data generate</c>: writes the planted synthetic stream in a public format.</summary>
public sealed class DataGenerateCommand : Command<DataGenerateSettings>
{
    public override int Execute(CommandContext context, DataGenerateSettings settings, CancellationToken cancellationToken)
    {
        var generator = new SyntheticDataGenerator(new SyntheticOptions
        {
            Users = settings.Users,
            Items = settings.Items,
            Categories = settings.Categories,
            MeanLength = settings.MeanLength,
            DriftProbability = settings.Drift,
            Seed = settings.Seed,
        });
        var events = generator.Generate();
        CliValidation.EnsureParent(settings.Out);
        using (var writer = new StreamWriter(settings.Out))
        {
            foreach (var e in events.OrderBy(e => e.UserId, StringComparer.Ordinal).ThenBy(e => e.Timestamp))
            {
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{e.UserId},{e.ItemId},{e.Category},pv,{e.Timestamp}"));
            }
        }

        AnsiConsole.MarkupLine($"Wrote {events.Count:N0} events to [green]{Markup.Escape(settings.Out)}[/] (read it back with --format taobao).");
        return 0;
    }
}
