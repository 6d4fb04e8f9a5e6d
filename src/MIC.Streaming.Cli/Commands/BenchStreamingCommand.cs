using System.ComponentModel;
using MIC.Streaming.Cli.Streaming;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class BenchStreamingSettings : CommandSettings
{
    [CommandOption("--events <N>")]
    [Description("Ingestion: events produced before the silo starts (backlog).")]
    [DefaultValue(500_000)]
    public int Events { get; init; } = 500_000;

    [CommandOption("--users <N>")]
    [Description("Ingestion: distinct users the events are spread over.")]
    [DefaultValue(20_000)]
    public int Users { get; init; } = 20_000;

    [CommandOption("--items <N>")]
    [Description("Serving: catalogue size of the benchmark model.")]
    [DefaultValue(200_000)]
    public int Items { get; init; } = 200_000;

    [CommandOption("--rps <N>")]
    [Description("Serving: open-loop request rate of GET /v1/users/{id}/candidates.")]
    [DefaultValue(1000)]
    public int Rps { get; init; } = 1000;

    [CommandOption("--seconds <N>")]
    [Description("Serving: load duration.")]
    [DefaultValue(20)]
    public int Seconds { get; init; } = 20;

    [CommandOption("--fresh-rate <N>")]
    [Description("Freshness: paced produce rate (events/s) while measuring produce → applied.")]
    [DefaultValue(5000)]
    public int FreshRate { get; init; } = 5000;

    [CommandOption("--redis <HOST:PORT>")]
    [Description("Use this Redis (default: start a local redis-server).")]
    public string? Redis { get; init; }

    [CommandOption("--no-items")]
    [Description("Ingestion: apply to user grains only (Kafka:UpdateItems=false).")]
    public bool NoItems { get; init; }

    [CommandOption("--commit-interval <SECONDS>")]
    [Description("Kafka:CommitInterval: how often dirty grains are flushed and offsets committed.")]
    [DefaultValue(2.0)]
    public double CommitInterval { get; init; } = 2.0;

    [CommandOption("--max-batch <N>")]
    [Description("Kafka:MaxBatch: most records applied per batch.")]
    [DefaultValue(20_000)]
    public int MaxBatch { get; init; } = 20_000;

    [CommandOption("--warmup-events <N>")]
    [Description("Ingestion: events a throw-away silo ingests first (other users, another topic), so the measured silo runs JIT-compiled code as a long-running one does; 0 measures a cold process.")]
    [DefaultValue(200_000)]
    public int WarmupEvents { get; init; } = 200_000;

    [CommandOption("--alloc-profile")]
    [Description("Print the types that allocated most during the ingest (sampled by the runtime every ~100 KB).")]
    public bool AllocProfile { get; init; }

    [CommandOption("--memory-storage")]
    [Description("Ingestion: in-memory grain storage instead of Redis (to isolate the storage cost).")]
    public bool MemoryStorage { get; init; }

    [CommandOption("--skip-ingest")]
    public bool SkipIngest { get; init; }

    [CommandOption("--skip-serving")]
    public bool SkipServing { get; init; }

    public override ValidationResult Validate() => CliValidation.FirstError(
        CliValidation.AtLeast("--events", Events, 1),
        CliValidation.AtLeast("--users", Users, 1),
        CliValidation.AtLeast("--items", Items, 1),
        CliValidation.AtLeast("--rps", Rps, 1),
        CliValidation.AtLeast("--seconds", Seconds, 1),
        CliValidation.AtLeast("--fresh-rate", FreshRate, 1),
        CliValidation.Positive("--commit-interval", CommitInterval),
        CliValidation.AtLeast("--max-batch", MaxBatch, 1),
        CliValidation.AtLeast("--warmup-events", WarmupEvents, 0),
        SkipIngest && SkipServing ? ValidationResult.Error("--skip-ingest with --skip-serving leaves nothing to measure.") : null);
}

/// <summary>
/// Streaming benchmarks, each ratio measured in one run: raw Kafka consume vs ingest into
/// Redis-persisted user grains; candidates over HTTP at a fixed request rate on a 200k-item model;
/// freshness (produce → visible in the user's sequence).
/// </summary>
public sealed class BenchStreamingCommand : AsyncCommand<BenchStreamingSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, BenchStreamingSettings settings, CancellationToken cancellationToken)
    {
        using var ownRedis = settings.Redis is null ? new RedisProcess() : null;
        var redis = settings.Redis ?? ownRedis!.ConnectionString;
        AnsiConsole.MarkupLine($"Redis: {redis}; {Environment.ProcessorCount} cores.");
        var table = new Table().AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned());
        if (!settings.SkipIngest)
        {
            await IngestBenchmark.RunAsync(settings, redis, table, cancellationToken);
        }

        if (!settings.SkipServing)
        {
            await ServeBenchmark.RunAsync(settings, redis, table, cancellationToken);
        }

        AnsiConsole.Write(table);
        return 0;
    }
}
