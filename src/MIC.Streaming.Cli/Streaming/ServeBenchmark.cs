using System.Diagnostics;
using System.Globalization;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Core.Synthetic;
using MIC.Streaming.Faiss;
using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Ingestion;
using MIC.Streaming.Model;
using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using MIC.Streaming.Cli.Commands;

namespace MIC.Streaming.Cli.Streaming;

/// <summary>
/// <c>mic bench streaming</c>, serving half: candidates over HTTP at a fixed open-loop request rate on a
/// published model, and freshness (produce → visible in the user's sequence) under a click stream.
/// </summary>
internal static class ServeBenchmark
{
    public static async Task RunAsync(BenchStreamingSettings settings, string redis, Table table, CancellationToken cancellationToken)
    {
        // A model over a large catalogue: latency depends on sizes, not on how well it is trained.
        // One intra-op thread per query: requests are the parallelism (OpenMP teams on tiny tensors only add wake-ups).
        TorchRuntime.Initialize(new TorchOptions { Threads = 1 });
        GcPauseListener.SampleAllocations = settings.AllocProfile;
        var users = Math.Max(10_000, settings.Items / 4);
        AnsiConsole.MarkupLine($"Building a {settings.Items:N0}-item, {users:N0}-user synthetic dataset and a briefly trained DSSM…");
        var dataset = new SyntheticDataGenerator(new SyntheticOptions { Users = users, Items = settings.Items, Categories = 200, Seed = 5 }).BuildDataset();
        var split = ComiRecSplitter.Split(dataset, 1, 20);
        var options = new TrainOptions
        {
            Encoder = "dssm",
            EncoderOptions = new EncoderOptions { Dimension = 128, MaxLen = 20 },
            Mic = new MicOptions { Variant = MicVariant.Base },
            MaxEpochs = 1,
            MaxSteps = 20,
        };
        var store = Path.Combine(Path.GetTempPath(), "mic-bench-" + Guid.NewGuid().ToString("N")[..8]);
        // The load generator is one client standing for many: the per-client candidates rate limit
        // (Security:CandidatesPerSecond, 2,000/s with a 200 burst) would answer its catch-up bursts
        // after any stall with 429s, so it is off here.
        var overrides = IngestBenchmark.Overrides(settings);
        overrides["Security:CandidatesPerSecond"] = "0";
        await using var silo = await LocalSilo.StartAsync(LocalSilo.FreePort(), 16, store, redis, overrides);
        try
        {
            var publish = Stopwatch.StartNew();
            using (var trainer = new MicTrainer(new FeatureTables(dataset), options))
            {
                trainer.Train(split, cancellationToken: cancellationToken);
                var manifest = new CheckpointManifest { Options = options, Dataset = dataset.Name, Protocol = split.Protocol, CreatedUtc = DateTimeOffset.UtcNow };
                await ModelPublisher.PublishAsync(silo.Grains, store, trainer.Model, dataset, split.Train, manifest, new IndexBuildOptions(), "bench", TimeProvider.System);
            }

            var serving = silo.App.Services.GetRequiredService<ServingModel>();
            while (!serving.IsReady)
            {
                await Task.Delay(100, cancellationToken);
            }

            table.AddRow($"Train 20 steps + export + build indexes + publish + load ({settings.Items:N0} items)", $"{publish.Elapsed.TotalSeconds:F0} s");

            // Freshness: live users' histories arrive through Kafka at a paced rate.
            var live = split.Test.Select(c => c.User).Take(5000).ToHashSet();
            var events = ReplayEvents.FromDataset(dataset, u => live.Contains(u) ? 0 : int.MaxValue).ToList();
            AnsiConsole.MarkupLine($"Measuring freshness: {events.Count:N0} events at {settings.FreshRate:N0} events/s…");
            silo.Ingestion.Freshness.Clear();
            var freshGc = GcWindow.Start();
            using (var publisher = new ClickPublisher(silo.BootstrapServers, silo.TopicName, lingerMs: 1))
            {
                await publisher.ReplayAsync(events, settings.FreshRate, cancellationToken: cancellationToken);
                publisher.Flush(TimeSpan.FromSeconds(30));
            }

            while (silo.Ingestion.TotalApplied + silo.Ingestion.TotalSkipped < events.Count)
            {
                await Task.Delay(50, cancellationToken);
            }

            // Let the item updates and the last flush finish so the load test measures serving alone.
            for (var commits = silo.Ingestion.TotalCommits; silo.Ingestion.TotalCommits < commits + 2;)
            {
                await Task.Delay(100, cancellationToken);
            }

            table.AddRow($"Freshness p50 / p99 at {settings.FreshRate:N0} events/s (produce → in the user's sequence)",
                $"{silo.Ingestion.Freshness.Percentile(50):F1} / {silo.Ingestion.Freshness.Percentile(99):F1} ms ({events.Count:N0} events)");
            table.AddRow("  GC during it", freshGc.Describe());

            // Candidates over HTTP, open loop at a fixed rate.
            var ids = live.Select(u => dataset.Users.GetRaw(u)).ToArray();
            AnsiConsole.MarkupLine($"Measuring candidates over HTTP: {settings.Rps:N0} req/s for {settings.Seconds} s…");
            var si = silo.App.Services.GetRequiredService<ServingInstruments>();
            var (p50, p99, achieved, errors, stalls, loadGc) = await LoadAsync(silo.BaseUrl, ids, settings.Rps, settings.Seconds, () =>
            {
                si.TowerMs.Clear();
                si.ChannelsMs.Clear();
            }, cancellationToken);
            table.AddRow($"Candidates over HTTP (3 channels, k=50) at {settings.Rps:N0} req/s target", $"p50 {p50:F2} ms, p99 {p99:F2} ms ({achieved:N0} req/s achieved, {errors})");
            table.AddRow("  in the silo: user tower p50 / p99; channels + merge p50 / p99",
                $"{si.TowerMs.Percentile(50):F2} / {si.TowerMs.Percentile(99):F2} ms; {si.ChannelsMs.Percentile(50):F2} / {si.ChannelsMs.Percentile(99):F2} ms");
            table.AddRow("  GC during it", loadGc);
            table.AddRow("  thread pool and CPU during it", stalls);
            if (settings.AllocProfile)
            {
                IngestBenchmark.AddAllocationProfile(table);
            }
        }
        finally
        {
            if (Directory.Exists(store))
            {
                Directory.Delete(store, true);
            }
        }
    }

    /// <summary>Open-loop load: requests start on schedule whether or not earlier ones finished.</summary>
    private static async Task<(double P50, double P99, double Achieved, string Errors, string Stalls, string Gc)> LoadAsync(string baseUrl, string[] users, int rps, int seconds, Action afterWarmUp, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64 };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(baseUrl) };
        // Warm-up, so that the steady state of a long-running silo and its clients is what is measured:
        // 5 s closed loop (8 in flight) for the JIT, then 10 s of the measured open loop itself. With
        // the closed loop alone the open loop's bursts still opened new connections inside the window
        // and the JIT compiled ~700 methods there (connection set-up, tier-1 rejits): 0.9 s of compile.
        var warmUntil = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async w =>
        {
            for (var i = w; warmUntil.Elapsed < TimeSpan.FromSeconds(5); i += 8)
            {
                using var response = await http.GetAsync($"/v1/users/{Uri.EscapeDataString(users[i % users.Length])}/candidates?k=50", cancellationToken);
                await response.Content.ReadAsByteArrayAsync(cancellationToken);
            }
        }));
        await OpenLoopAsync(http, users, rps, Math.Min(seconds, 10), new Random(4), cancellationToken);
        afterWarmUp();

        GcPauseListener.TakeAllocations(0);
        GcPauseListener.TakeMarked();
        var gc = GcWindow.Start();
        using var probe = new StallProbe();
        var watch = Stopwatch.StartNew();
        var (latencies, fromSchedule, statuses) = await OpenLoopAsync(http, users, rps, seconds, new Random(3), cancellationToken);
        var achieved = latencies.Count / watch.Elapsed.TotalSeconds;
        var stalls = probe.Describe();
        var gcDescribed = gc.Describe();
        latencies.Sort();
        fromSchedule.Sort();
        var scheduledP99 = fromSchedule[(int)Math.Ceiling(0.99 * (fromSchedule.Count - 1))];
        stalls += string.Create(CultureInfo.InvariantCulture, $"; p99 from the scheduled send time {scheduledP99:F2} ms");
        var errors = statuses.Values.Sum();
        var described = errors == 0 ? "0 errors" : $"{errors} errors: " + string.Join(", ", statuses.Select(kv => $"HTTP {kv.Key} × {kv.Value}"));
        return (latencies[(int)(0.5 * (latencies.Count - 1))], latencies[(int)Math.Ceiling(0.99 * (latencies.Count - 1))], achieved, described, stalls, gcDescribed);
    }

    /// <summary>
    /// <paramref name="rps"/> requests a second for <paramref name="seconds"/>, each started on schedule;
    /// latencies from the request's start and from its scheduled start (the latter also counts any
    /// time the request waited for a thread before it was sent), and non-success statuses.
    /// </summary>
    private static async Task<(List<double> Latencies, List<double> FromSchedule, SortedDictionary<int, int> Errors)> OpenLoopAsync(HttpClient http, string[] users, int rps, int seconds, Random random, CancellationToken cancellationToken)
    {
        var latencies = new List<double>(rps * seconds);
        var fromSchedule = new List<double>(rps * seconds);
        var gate = new Lock();
        var statuses = new SortedDictionary<int, int>();
        var tasks = new List<Task>(rps * seconds);
        var started = Stopwatch.GetTimestamp();
        for (var n = 0; n < rps * seconds; n++)
        {
            var due = TimeSpan.FromSeconds((double)n / rps) - Stopwatch.GetElapsedTime(started);
            if (due > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(due, cancellationToken);
            }

            var user = users[random.Next(users.Length)];
            var scheduled = started + (long)((double)n / rps * Stopwatch.Frequency);
            tasks.Add(Task.Run(async () =>
            {
                var t0 = Stopwatch.GetTimestamp();
                using var response = await http.GetAsync($"/v1/users/{Uri.EscapeDataString(user)}/candidates?k=50", cancellationToken);
                await response.Content.ReadAsByteArrayAsync(cancellationToken);
                var end = Stopwatch.GetTimestamp();
                lock (gate)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(t0, end).TotalMilliseconds);
                    fromSchedule.Add(Stopwatch.GetElapsedTime(Math.Min(scheduled, t0), end).TotalMilliseconds);
                    if (!response.IsSuccessStatusCode)
                    {
                        statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
                    }
                }
            }, cancellationToken));
        }

        await Task.WhenAll(tasks);
        return (latencies, fromSchedule, statuses);
    }
}
