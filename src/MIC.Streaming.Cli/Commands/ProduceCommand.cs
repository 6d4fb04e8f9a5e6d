using System.ComponentModel;
using System.Diagnostics;
using MIC.Streaming.Ingestion;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class ProduceSettings : DataSettings
{
    [CommandOption("--bootstrap <SERVERS>")]
    [Description("Kafka bootstrap servers (host:port[[,host:port]]).")]
    public string Bootstrap { get; init; } = "";

    [CommandOption("--topic <TOPIC>")]
    [Description("Click topic.")]
    [DefaultValue("mic.clicks")]
    public string Topic { get; init; } = "mic.clicks";

    [CommandOption("--rate <EVENTS_PER_SECOND>")]
    [Description("Events per second (0 = as fast as possible).")]
    [DefaultValue(1000d)]
    public double Rate { get; init; } = 1000;

    [CommandOption("--limit <N>")]
    [Description("Stop after N events (0 = the whole dataset).")]
    [DefaultValue(0L)]
    public long Limit { get; init; }

    public override ValidationResult Validate()
    {
        var baseResult = base.Validate();
        return !baseResult.Successful ? baseResult
            : string.IsNullOrWhiteSpace(Bootstrap) ? ValidationResult.Error("--bootstrap is required (e.g. localhost:9092).")
            : string.IsNullOrWhiteSpace(Topic) ? ValidationResult.Error("--topic is required.")
            : Rate < 0 || double.IsNaN(Rate) ? ValidationResult.Error($"--rate {Rate} is out of range; it must be ≥ 0 (0 = as fast as possible).")
            : Limit < 0 ? ValidationResult.Error($"--limit {Limit} is out of range; it must be ≥ 0.")
            : ValidationResult.Success();
    }
}

/// <summary>Replays a dataset, in time order, as click events into any Kafka cluster.</summary>
public sealed class ProduceCommand : AsyncCommand<ProduceSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ProduceSettings settings, CancellationToken cancellationToken)
    {
        // Reach the broker before reading any data: an unreachable one is one clear line, not minutes of retries.
        if (ClickPublisher.Probe(settings.Bootstrap, TimeSpan.FromSeconds(10)) is { } unreachable)
        {
            throw new CliException($"--bootstrap: {unreachable}");
        }

        var dataset = CliData.Load(settings);
        var events = ReplayEvents.FromDataset(dataset);
        if (settings.Limit > 0)
        {
            events = events.Take((int)Math.Min(int.MaxValue, settings.Limit));
        }

        using var publisher = new ClickPublisher(settings.Bootstrap, settings.Topic);
        var total = settings.Limit > 0 ? Math.Min(settings.Limit, dataset.InteractionCount) : dataset.InteractionCount;
        var watch = Stopwatch.StartNew();
        long sent = 0;
        await CliProgress.RunAsync($"→ {settings.Topic}", async bar =>
            sent = await publisher.ReplayAsync(events, settings.Rate, n => bar.Report((double)n / Math.Max(1, total)), cancellationToken));
        var pending = publisher.Flush(TimeSpan.FromSeconds(30));
        AnsiConsole.MarkupLine($"Produced {sent:N0} events in {watch.Elapsed.TotalSeconds:F1} s ({sent / watch.Elapsed.TotalSeconds:F0}/s); undelivered: {pending}, failed: {publisher.Failed}.");
        return pending == 0 && publisher.Failed == 0 ? 0 : 1;
    }
}
