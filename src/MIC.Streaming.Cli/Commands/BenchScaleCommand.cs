using System.ComponentModel;
using System.Globalization;
using MIC.Streaming.Cli.Streaming;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class BenchScaleSettings : CommandSettings
{
    [CommandOption("--items <N>")]
    [Description("Items of the synthetic catalogue.")]
    [DefaultValue(200_000)]
    public int Items { get; init; } = 200_000;

    [CommandOption("--users <N>")]
    [Description("Users (each indexed for U2U2I).")]
    [DefaultValue(200_000)]
    public int Users { get; init; } = 200_000;

    [CommandOption("--shards <N>")]
    [Description("Index shards per version in the sharded rows.")]
    [DefaultValue(6)]
    public int Shards { get; init; } = 6;

    [CommandOption("--silos <LIST>")]
    [Description("Silo counts of the sharded rows (one in-process cluster each, Redis membership).")]
    [DefaultValue("1,2,3")]
    public string Silos { get; init; } = "1,2,3";

    [CommandOption("--queries <N>")]
    [Description("Measured candidate queries per row (after 200 warm-up queries).")]
    [DefaultValue(2000)]
    public int Queries { get; init; } = 2000;

    [CommandOption("--concurrency <N>")]
    [Description("Queries in flight at once.")]
    [DefaultValue(4)]
    public int Concurrency { get; init; } = 4;

    [CommandOption("--candidates <N>")]
    [Description("Candidates per query (all three channels, merged).")]
    [DefaultValue(50)]
    public int K { get; init; } = 50;

    [CommandOption("--seed <N>")]
    [Description("Seed of the synthetic data and of the query order.")]
    [DefaultValue(5)]
    public int Seed { get; init; } = 5;

    public override ValidationResult Validate()
    {
        var silos = CliValidation.Integers("--silos", Silos);
        if (silos is null && CliValidation.List(Silos).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).FirstOrDefault(n => n is < 1 or > 8) is var bad and not 0)
        {
            silos = ValidationResult.Error($"--silos: {bad} is not between 1 and 8.");
        }

        return CliValidation.FirstError(
            CliValidation.AtLeast("--items", Items, 100),
            CliValidation.AtLeast("--users", Users, 100),
            CliValidation.AtLeast("--shards", Shards, 1),
            silos,
            CliValidation.AtLeast("--queries", Queries, 10),
            CliValidation.AtLeast("--concurrency", Concurrency, 1),
            CliValidation.AtLeast("--candidates", K, 1));
    }
}

/// <summary>
/// <c>mic bench scale</c>: one model version served Replicated (1 silo) and Sharded (1..n silos) in
/// one run: per-silo serving bytes (tower + the indexes each silo holds), p50/p99 per query, CPU per
/// query, and the sharded rows' ratios to the replicated one.
/// </summary>
public sealed class BenchScaleCommand : AsyncCommand<BenchScaleSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, BenchScaleSettings settings, CancellationToken cancellationToken)
    {
        var silos = CliValidation.List(settings.Silos).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var options = new ScaleOptions(settings.Items, settings.Users, settings.Shards, silos, settings.Queries, settings.Concurrency, settings.K, settings.Seed);
        var (build, rows) = await ScaleBenchmark.RunAsync(options, m => AnsiConsole.MarkupLine(Markup.Escape(m)), cancellationToken);
        AnsiConsole.MarkupLine(Markup.Escape($"Version built in {build.TotalSeconds:F0} s ({settings.Items:N0} items, {settings.Users:N0} users, dim 128, {settings.Shards} shards; {settings.Queries:N0} queries per row, {settings.Concurrency} in flight, k {settings.K})."));
        var baseline = rows[0];
        var table = new Table()
            .AddColumn("mode").AddColumn(new TableColumn("silos").RightAligned())
            .AddColumn(new TableColumn("tower MiB/silo").RightAligned()).AddColumn(new TableColumn("indexes MiB/silo (max)").RightAligned())
            .AddColumn(new TableColumn("serving MiB/silo ÷ replicated").RightAligned())
            .AddColumn(new TableColumn("p50 ms").RightAligned()).AddColumn(new TableColumn("p99 ms").RightAligned())
            .AddColumn(new TableColumn("CPU ms/query").RightAligned()).AddColumn(new TableColumn("CPU ÷ replicated").RightAligned())
            .AddColumn(new TableColumn("partial").RightAligned());
        foreach (var r in rows)
        {
            table.AddRow(
                r.Mode,
                r.Silos.ToString(CultureInfo.InvariantCulture),
                Mib(r.TowerBytes),
                Mib(r.IndexBytesPerSilo.Max()),
                ((double)r.MaxSiloBytes / baseline.MaxSiloBytes).ToString("F2", CultureInfo.InvariantCulture),
                r.P50Ms.ToString("F1", CultureInfo.InvariantCulture),
                r.P99Ms.ToString("F1", CultureInfo.InvariantCulture),
                r.CpuMsPerQuery.ToString("F2", CultureInfo.InvariantCulture),
                (r.CpuMsPerQuery / baseline.CpuMsPerQuery).ToString("F2", CultureInfo.InvariantCulture),
                r.Partial.ToString(CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("Index bytes per silo, sharded: " + Markup.Escape(string.Join("; ", rows.Skip(1).Select(r => $"{r.Silos} silo(s): " + string.Join(" / ", r.IndexBytesPerSilo.Select(Mib))))) + " MiB.");
        return 0;
    }

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("F0", CultureInfo.InvariantCulture);
}
