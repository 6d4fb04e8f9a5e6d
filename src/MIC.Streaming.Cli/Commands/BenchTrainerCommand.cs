using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using MIC.Streaming.Cli.Streaming;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Core.Metrics;
using MIC.Streaming.Core.Synthetic;
using MIC.Streaming.Grains;
using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Ingestion;
using MIC.Streaming.Trainer;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class BenchTrainerSettings : DataSettings
{
    [CommandOption("--replay")]
    [Description("Replay --data (or the built-in dataset) in time order instead of the drifting synthetic stream: the first --initial-share trains the first model, the rest streams.")]
    public bool Replay { get; init; }

    [CommandOption("--initial-share <FRACTION>")]
    [Description("With --replay: share of the events (in time order) the first model is trained on.")]
    [DefaultValue(0.5)]
    public double InitialShare { get; init; } = 0.5;

    [CommandOption("--users <N>")]
    [Description("Drifting stream: users.")]
    [DefaultValue(2000)]
    public int Users { get; init; } = 2000;

    [CommandOption("--items <N>")]
    [Description("Drifting stream: items at the start (half as many again arrive with the drift).")]
    [DefaultValue(2000)]
    public int Items { get; init; } = 2000;

    [CommandOption("--rate <EVENTS_PER_SECOND>")]
    [Description("Produce rate of the streamed part.")]
    [DefaultValue(1000d)]
    public double Rate { get; init; } = 1000;

    [CommandOption("--seconds <N>")]
    [Description("Longest time the streamed part is produced for.")]
    [DefaultValue(90)]
    public int Seconds { get; init; } = 90;

    [CommandOption("--qps <N>")]
    [Description("Candidate queries per second during the run (in-process grain calls).")]
    [DefaultValue(100)]
    public int Qps { get; init; } = 100;

    [CommandOption("--update-interval <SECONDS>")]
    [DefaultValue(10)]
    public int UpdateInterval { get; init; } = 10;

    [CommandOption("--update-budget <SECONDS>")]
    [Description("Trainer:MaxUpdateTime: wall-clock budget of one update's steps.")]
    [DefaultValue(8)]
    public int UpdateBudget { get; init; } = 8;

    [CommandOption("--epochs-per-update <N>")]
    [Description("Trainer:EpochsPerUpdate: passes over the new examples in one update.")]
    [DefaultValue(2)]
    public int EpochsPerUpdate { get; init; } = 2;

    [CommandOption("--replay-ratio <R>")]
    [Description("Trainer:ReplayRatio: replayed (older) examples per new example in one update.")]
    [DefaultValue(1.0)]
    public double ReplayRatio { get; init; } = 1.0;

    [CommandOption("--dimension <D>")]
    [DefaultValue(64)]
    public int Dimension { get; init; } = 64;

    [CommandOption("--threads <N>")]
    [Description("Trainer threads (0 = half the cores).")]
    [DefaultValue(0)]
    public int Threads { get; init; }

    public override ValidationResult Validate() =>
        Rate <= 0 || Seconds < 5 || Qps < 1 || UpdateInterval < 1 || InitialShare is <= 0 or >= 1
            ? ValidationResult.Error("--rate > 0, --seconds ≥ 5, --qps ≥ 1, --update-interval ≥ 1 and 0 < --initial-share < 1 are required.")
            : base.Validate();
}

/// <summary>
/// The streaming trainer measured in one process (mock Kafka, one serving+trainer silo):
/// refresh lag (event produced → a version that trained on it serving), incremental-update
/// examples/s, serving p99 while an update trains vs while none does, and prequential Recall@50
/// of the updated model vs the frozen first one.
/// </summary>
public sealed class BenchTrainerCommand : AsyncCommand<BenchTrainerSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, BenchTrainerSettings settings, CancellationToken cancellationToken)
    {
        var (initial, stream, source) = Events(settings);
        AnsiConsole.MarkupLine($"Source: {Markup.Escape(source)}: {initial.Count:N0} events for the first model, then {stream.Count:N0} streamed at {settings.Rate:F0}/s (≤ {settings.Seconds} s).");
        var store = Path.Combine(Path.GetTempPath(), "mic-bench-trainer-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var overrides = new Dictionary<string, string?>
            {
                ["Silo:Roles"] = "serving,trainer",
                ["Security:CandidatesPerSecond"] = "0",
                ["Serving:PollInterval"] = "00:00:00.200",
                ["Trainer:Dimension"] = settings.Dimension.ToString(CultureInfo.InvariantCulture),
                ["Trainer:InitialEvents"] = Math.Max(10, initial.Count - 100).ToString(CultureInfo.InvariantCulture),
                ["Trainer:UpdateInterval"] = TimeSpan.FromSeconds(settings.UpdateInterval).ToString("c", CultureInfo.InvariantCulture),
                ["Trainer:UpdateEvents"] = "1000000",
                ["Trainer:MinNewEvents"] = "100",
                ["Trainer:MaxStepsPerUpdate"] = "200",
                ["Trainer:MaxUpdateTime"] = TimeSpan.FromSeconds(settings.UpdateBudget).ToString("c", CultureInfo.InvariantCulture),
                ["Trainer:EpochsPerUpdate"] = settings.EpochsPerUpdate.ToString(CultureInfo.InvariantCulture),
                ["Trainer:ReplayRatio"] = settings.ReplayRatio.ToString(CultureInfo.InvariantCulture),
                ["Trainer:EvaluateShare"] = "0.2",
                ["Trainer:EvaluateMaxPerSecond"] = "50",
                ["Trainer:EvaluateWindow"] = "10000000", // prequential recall over the whole streamed phase
                ["Trainer:Threads"] = settings.Threads.ToString(CultureInfo.InvariantCulture),
            };
            await using var silo = await LocalSilo.StartAsync(LocalSilo.FreePort(), 8, store, null, overrides);
            var serving = silo.App.Services.GetRequiredService<ServingModel>();
            var servingInstruments = silo.App.Services.GetRequiredService<ServingInstruments>();
            var trainer = silo.App.Services.GetRequiredService<TrainerInstruments>();
            using var publisher = new ClickPublisher(silo.BootstrapServers, silo.TopicName, lingerMs: 1);

            // The first model, trained from scratch on the initial part.
            var watch = Stopwatch.StartNew();
            await publisher.ReplayAsync(initial, 0, cancellationToken: cancellationToken);
            while (serving.CurrentVersion < 1)
            {
                await Task.Delay(200, cancellationToken);
                if (watch.Elapsed > TimeSpan.FromMinutes(10))
                {
                    throw new TimeoutException($"No first version after 10 minutes; trainer: {trainer.Status}.");
                }
            }

            AnsiConsole.MarkupLine($"First version served after {watch.Elapsed.TotalSeconds:F0} s. Streaming…");

            // Stream at the rate while querying at --qps; remember when each event was produced.
            var produced = new long[stream.Count];
            var sent = 0;
            using var stop = new CancellationTokenSource();
            var busy = new LatencyRing(1 << 18);
            var idle = new LatencyRing(1 << 18);
            var failures = 0L;
            var queries = Task.Run(() => QueryAsync(silo, stream, settings.Qps, trainer, busy, idle, () => Interlocked.Increment(ref failures), stop.Token), CancellationToken.None);
            var started = Stopwatch.GetTimestamp();
            var end = TimeSpan.FromSeconds(settings.Seconds);
            for (; sent < stream.Count; sent++)
            {
                var due = TimeSpan.FromSeconds(sent / settings.Rate) - Stopwatch.GetElapsedTime(started);
                if (due > TimeSpan.FromMilliseconds(2))
                {
                    await Task.Delay(due, cancellationToken);
                }

                if (Stopwatch.GetElapsedTime(started) >= end)
                {
                    break;
                }

                produced[sent] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                publisher.Enqueue(stream[sent]);
            }

            publisher.Flush(TimeSpan.FromSeconds(30));
            var lastProduced = produced[sent - 1];
            // Let the trainer publish a version covering the last event, then stop querying.
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(settings.UpdateInterval * 6 + 60))
            {
                var history = await silo.Grains.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey).GetHistoryAsync();
                if (history.Length > 0 && history[^1].NewestEventMs >= lastProduced && serving.CurrentVersion == history[^1].Version)
                {
                    break;
                }

                await Task.Delay(250, cancellationToken);
            }

            await stop.CancelAsync();
            await queries;

            // Refresh lag per event: produced → the first served version that had trained on it.
            var versions = (await silo.Grains.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey).GetHistoryAsync())
                .Where(v => v.NewestEventMs > 0).OrderBy(v => v.Version).ToList();
            var servedAt = servingInstruments.Swaps.GroupBy(s => s.Version).ToDictionary(g => g.Key, g => g.Min(s => s.ServingSinceMs));
            var lags = new List<double>(sent);
            var uncovered = 0;
            for (var i = 0; i < sent; i++)
            {
                var v = versions.FirstOrDefault(v => v.NewestEventMs >= produced[i] && servedAt.ContainsKey(v.Version));
                if (v is null)
                {
                    uncovered++;
                    continue;
                }

                lags.Add((servedAt[v.Version] - produced[i]) / 1000.0);
            }

            lags.Sort();
            var status = trainer.Status!;
            var table = new Table().Border(TableBorder.Rounded).Title("bench trainer").AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned());
            table.AddRow("events streamed / not yet in a served version", $"{sent:N0} / {uncovered:N0}");
            table.AddRow("versions trained on the stream (first model included)", versions.Count.ToString(CultureInfo.InvariantCulture));
            table.AddRow("[bold]refresh lag p50 / p99 (produced → serving)[/]", lags.Count == 0 ? "–" : $"[bold]{Percentile(lags, 50):F1} / {Percentile(lags, 99):F1} s[/]");
            // Update cycles while streaming: every one after the first model, except a last partial one after the stream ended.
            var cycles = trainer.Cycles.Skip(1).Take(Math.Max(0, versions.Count - 2)).ToList();
            table.AddRow("updates after the first model (full cycles averaged below)", $"{status.Updates - 1} ({cycles.Count})");
            if (cycles.Count > 0)
            {
                double Mean(Func<UpdatePhases, double> f) => cycles.Average(f);
                table.AddRow(
                    "one update cycle, mean: catalog / grow / support sets / steps / publish / reload (s)",
                    FormattableString.Invariant($"{Mean(c => c.Catalog):F1} / {Mean(c => c.Grow):F1} / {Mean(c => c.Support):F1} / {Mean(c => c.Steps):F1} / {Mean(c => c.Publish):F1} / {Mean(c => c.Reload):F1} = {Mean(c => c.Total):F1}"));
            }

            table.AddRow("[bold]incremental update examples/s (optimisation steps, last update)[/]", $"[bold]{status.ExamplesPerSecond:N0}[/]");
            table.AddRow("queries while updating / idle", $"{busy.Count:N0} / {idle.Count:N0} (failed {failures})");
            table.AddRow("serving p50 / p99 idle", $"{idle.Percentile(50):F2} / {idle.Percentile(99):F2} ms");
            table.AddRow("serving p50 / p99 during an update", $"{busy.Percentile(50):F2} / {busy.Percentile(99):F2} ms");
            table.AddRow("[bold]serving p99 ratio (update / idle)[/]", idle.Count == 0 || busy.Count == 0 ? "–" : $"[bold]{busy.Percentile(99) / idle.Percentile(99):F2}×[/]");
            foreach (var r in status.Online.Where(r => r.Channel == "merged" || r.Model == "live"))
            {
                table.AddRow($"prequential Recall@{r.K} {r.Model} {r.Channel}", $"{r.Recall:F4} (n={r.Evaluated})");
            }

            var live = status.Online.FirstOrDefault(r => r.Model == "live" && r.Channel == "merged");
            var frozen = status.Online.FirstOrDefault(r => r.Model == "frozen" && r.Channel == "merged");
            if (live is not null && frozen is { Recall: > 0 })
            {
                table.AddRow("[bold]prequential Recall@50 ratio (updated / frozen, merged)[/]", $"[bold]{live.Recall / frozen.Recall:F2}×[/]");
            }

            AnsiConsole.Write(table);
            return 0;
        }
        finally
        {
            if (Directory.Exists(store))
            {
                Directory.Delete(store, recursive: true);
            }
        }
    }

    private static (List<ClickEvent> Initial, List<ClickEvent> Stream, string Source) Events(BenchTrainerSettings settings)
    {
        if (settings.Replay)
        {
            var dataset = CliData.Load(settings);
            var all = ReplayEvents.FromDataset(dataset).ToList();
            var cut = (int)(all.Count * settings.InitialShare);
            return (all[..cut], all[cut..], $"{dataset.Name} in time order");
        }

        var drift = new DriftingClicks(new DriftOptions { Users = settings.Users, Items = settings.Items, NewItemsPerPhase = settings.Items / 2, Groups = 20 });
        var perUser = (int)Math.Ceiling(settings.Rate * settings.Seconds / settings.Users);
        return ([.. drift.Phase(0, 15)], [.. drift.Phase(1, perUser)], $"drifting synthetic stream ({settings.Users} users, {settings.Items}+{settings.Items / 2} items)");
    }

    private static async Task QueryAsync(LocalSilo silo, List<ClickEvent> stream, int qps, TrainerInstruments trainer, LatencyRing busy, LatencyRing idle, Action failed, CancellationToken cancellationToken)
    {
        var retrieval = silo.Grains.GetGrain<IRetrievalGrain>(0);
        var started = Stopwatch.GetTimestamp();
        for (long i = 0; !cancellationToken.IsCancellationRequested; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / qps) - Stopwatch.GetElapsedTime(started);
            if (due > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(due, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            var updating = trainer.Updating;
            var t0 = Stopwatch.GetTimestamp();
            try
            {
                await retrieval.GetCandidatesAsync(new CandidateRequest(stream[(int)(i % stream.Count)].UserId, 50, RetrievalChannels.All));
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException or ServingNotReadyException)
            {
                failed();
                continue;
            }

            var ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            (updating || trainer.Updating ? busy : idle).Add(ms);
        }
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
