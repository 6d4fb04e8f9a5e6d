using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using MIC.Streaming.Cli.Streaming;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class BenchCapacitySettings : CommandSettings
{
    [CommandOption("--items <N>")]
    [Description("Items of the serving measurements' synthetic catalogue.")]
    [DefaultValue(200_000)]
    public int Items { get; init; } = 200_000;

    [CommandOption("--users <N>")]
    [Description("Users of the serving measurements (all indexed for U2U2I).")]
    [DefaultValue(200_000)]
    public int Users { get; init; } = 200_000;

    [CommandOption("--queries <N>")]
    [Description("Queries per channel for the CPU-per-query costs.")]
    [DefaultValue(2000)]
    public int Queries { get; init; } = 2000;

    [CommandOption("--ingest-events <N>")]
    [Description("Events ingested per ingest measurement (users only, then users + items).")]
    [DefaultValue(300_000)]
    public int IngestEvents { get; init; } = 300_000;

    [CommandOption("--ingest-users <N>")]
    [Description("Distinct users those events spread over.")]
    [DefaultValue(20_000)]
    public int IngestUsers { get; init; } = 20_000;

    [CommandOption("--train-steps <N>")]
    [Description("Measured training steps (batch 1,024) per encoder × variant.")]
    [DefaultValue(3)]
    public int TrainSteps { get; init; } = 3;

    [CommandOption("--train-users <N>")]
    [Description("Users of the trainer measurements' synthetic dataset.")]
    [DefaultValue(10_000)]
    public int TrainUsers { get; init; } = 10_000;

    [CommandOption("--train-items <N>")]
    [Description("Items of the trainer measurements' synthetic dataset.")]
    [DefaultValue(20_000)]
    public int TrainItems { get; init; } = 20_000;

    [CommandOption("--kinds-vectors <N>")]
    [Description("Item vectors each index kind is built and tuned on (IVF-PQ tuning dominates the run: ~17 min at 100,000).")]
    [DefaultValue(100_000)]
    public int KindsVectors { get; init; } = 100_000;

    [CommandOption("--kinds <LIST>")]
    [Description("Index kinds to measure bytes per vector for (ivf-flat, ivf-sq8, ivf-pq<m>); 'all' = every kind of the planner.")]
    [DefaultValue("all")]
    public string Kinds { get; init; } = "all";

    [CommandOption("--seed <N>")]
    [Description("Seed of the synthetic data and the query order.")]
    [DefaultValue(5)]
    public int Seed { get; init; } = 5;

    [CommandOption("--out <PATH>")]
    [Description("Also write the unit costs as JSON here (docs/CAPACITY.md's inputs).")]
    public string? Out { get; init; }

    public override ValidationResult Validate() => CliValidation.FirstError(
        Kinds == "all" ? null : CliValidation.OneOfEach("--kinds", Kinds, [.. MIC.Streaming.Faiss.IndexPlanner.Kinds(128).Select(k => k.Name)]),
        CliValidation.AtLeast("--items", Items, 1000),
        CliValidation.AtLeast("--users", Users, 1000),
        CliValidation.AtLeast("--queries", Queries, 10),
        CliValidation.AtLeast("--ingest-events", IngestEvents, 1000),
        CliValidation.AtLeast("--ingest-users", IngestUsers, 10),
        CliValidation.AtLeast("--train-steps", TrainSteps, 1),
        CliValidation.AtLeast("--train-users", TrainUsers, 100),
        CliValidation.AtLeast("--train-items", TrainItems, 100),
        CliValidation.AtLeast("--kinds-vectors", KindsVectors, 1000),
        CliValidation.OutputFile("--out", Out));
}

/// <summary>
/// <c>mic bench capacity</c>: every unit cost docs/CAPACITY.md's table is computed from, measured in
/// one run (grain bytes in memory and Redis, ingest CPU per event, query CPU per channel, index bytes
/// per vector per kind, version load time, sharded fan-out overhead, trainer examples per core-second).
/// </summary>
public sealed class BenchCapacityCommand : AsyncCommand<BenchCapacitySettings>
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public override async Task<int> ExecuteAsync(CommandContext context, BenchCapacitySettings settings, CancellationToken cancellationToken)
    {
        var options = new CapacityOptions(settings.Items, settings.Users, settings.Queries, settings.IngestEvents, settings.IngestUsers, settings.TrainSteps, settings.TrainUsers, settings.TrainItems, settings.KindsVectors, settings.Kinds == "all" ? null : CliValidation.List(settings.Kinds), settings.Seed);
        var costs = await CapacityBenchmark.RunAsync(options, m => AnsiConsole.MarkupLine(Markup.Escape(m)), cancellationToken);
        var table = new Table().AddColumn("unit").AddColumn(new TableColumn("value").RightAligned()).AddColumn("unit of measure").AddColumn("how");
        foreach (var c in costs)
        {
            table.AddRow(Markup.Escape(c.Key), c.Value.ToString(c.Value >= 100 ? "N0" : "G3", CultureInfo.InvariantCulture), Markup.Escape(c.Unit), Markup.Escape(c.How));
        }

        AnsiConsole.Write(table);
        if (settings.Out is { } path)
        {
            CliValidation.EnsureParent(path);
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(costs, Indented), cancellationToken);
            AnsiConsole.MarkupLine(Markup.Escape($"Unit costs written to {path}."));
        }

        return 0;
    }
}
