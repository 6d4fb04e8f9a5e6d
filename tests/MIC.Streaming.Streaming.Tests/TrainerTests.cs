using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Core.Synthetic;
using MIC.Streaming.Grains;
using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Ingestion;
using MIC.Streaming.Trainer;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>The streaming trainer end to end: Kafka → trainer grain → model store → registry → serving swap.</summary>
[Collection("cluster")]
public sealed class TrainerTests(ITestOutputHelper output)
{
    /// <summary>Small and fast on 2 CPU cores, same code paths as production.</summary>
    private static Dictionary<string, string?> TrainerSettings(string store) => new()
    {
        ["Silo:ModelStore"] = store,
        ["Silo:Roles"] = "serving,trainer",
        ["Security:CandidatesPerSecond"] = "0",
        ["Trainer:Dimension"] = "32",
        ["Trainer:BatchSize"] = "256",
        ["Trainer:InitialEvents"] = "4000",
        ["Trainer:UpdateInterval"] = "00:00:01",
        ["Trainer:UpdateEvents"] = "1500",
        ["Trainer:MinNewEvents"] = "300",
        ["Trainer:EpochsPerUpdate"] = "3",
        ["Trainer:MaxStepsPerUpdate"] = "60",
        ["Trainer:LearningRate"] = "0.005",
        ["Trainer:EvaluateShare"] = "0.5",
        ["Trainer:EvaluateMaxPerSecond"] = "400",
        ["Trainer:EvaluateWindow"] = "600",
        ["Trainer:Threads"] = "1",
        ["Serving:PollInterval"] = "00:00:00.200",
    };

    [Fact]
    public async Task Trainer_OnDriftingStream_VersionsAdvance_BeatsFrozenModel_AndQueriesNeverFailDuringSwaps()
    {
        // Given a serving+trainer silo with an empty registry and a stream whose structure drifts
        using var store = new TempDir();
        await using var silo = await TestSilo.StartAsync("drift.clicks", 4, TrainerSettings(store.Path));
        var stream = new DriftingClicks(new DriftOptions { Users = 300, Items = 300, NewItemsPerPhase = 200, Groups = 10 });
        var host = silo.App.Services.GetRequiredService<TrainerHost>();
        var serving = silo.App.Services.GetRequiredService<ServingModel>();
        using var publisher = new ClickPublisher(silo.Kafka.BootstrapServers, "drift.clicks");

        // When phase 0 flows, a first model is trained from scratch and served (the frozen baseline)
        await publisher.ReplayAsync(stream.Phase(0, 20), 0);
        await StreamingCluster.WaitUntilAsync(() => Task.FromResult(serving.CurrentVersion >= 1), TimeSpan.FromSeconds(120), "first version served");
        var first = serving.CurrentVersion;

        // And phase 1 (regrouped items, new items) flows while clients query continuously
        var statuses = new ConcurrentBag<HttpStatusCode>();
        var seen = new ConcurrentQueue<long>();
        using var stop = new CancellationTokenSource();
        var client = Task.Run(async () =>
        {
            var u = 0;
            while (!stop.IsCancellationRequested)
            {
                using var response = await silo.Http.GetAsync($"/v1/users/u{u++ % 300}/candidates?k=20");
                statuses.Add(response.StatusCode);
                if (response.IsSuccessStatusCode)
                {
                    seen.Enqueue((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("modelVersion").GetInt64());
                }
            }
        });
        publisher.EnqueueRaw("u0", "{not json"u8.ToArray()); // dead-lettered by ingestion, skipped by the trainer
        foreach (var chunk in stream.Phase(1, 40).Chunk(1500))
        {
            await publisher.ReplayAsync(chunk, 0);
            await Task.Delay(700);
        }

        var total = (300 * 60) + 1;
        await StreamingCluster.WaitUntilAsync(() => Task.FromResult(host.LastStatus is { } s && s.EventsSeen >= total && s.EventsTrained >= s.EventsSeen - 600), TimeSpan.FromSeconds(180), "trainer caught up");
        var status = host.LastStatus!;

        // The trainer may publish once more from the events it had not trained yet, so serving reaches
        // this status's version or a newer one, never equality with a snapshot that is already stale.
        await StreamingCluster.WaitUntilAsync(() => Task.FromResult(serving.CurrentVersion >= status.PublishedVersion), TimeSpan.FromSeconds(30), "serving on the trainer's last version");
        await stop.CancelAsync();
        await client;

        // Then versions advanced while events flowed, and serving followed without a failed query
        output.WriteLine($"versions {first} → {status.PublishedVersion}, updates {status.Updates}, {status.Users} users, {status.Items} items, {status.ExamplesPerSecond:F0} ex/s");
        foreach (var r in status.Online)
        {
            output.WriteLine($"{r.Model,-6} {r.Channel,-6} Recall@{r.K} {r.Recall:F3} HitRate@{r.K} {r.HitRate:F3} over {r.Evaluated}");
        }

        Assert.True(status.PublishedVersion >= first + 3, $"only {status.PublishedVersion - first} versions after the first");
        Assert.Equal(stream.ItemsIn(1), status.Items); // new items got rows without a restart
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        var order = seen.ToArray();
        Assert.True(order.Distinct().Count() >= 2, "queries spanned swaps");
        Assert.True(order.Zip(order.Skip(1)).All(p => p.First <= p.Second), "a query saw an older version after a newer one");

        // And after the drift, online Recall@50 of the updated model beats the frozen first one by ≥ 1.2×
        var live = status.Online.Single(r => r.Model == "live" && r.Channel == "merged");
        var frozen = status.Online.Single(r => r.Model == "frozen" && r.Channel == "merged");
        Assert.True(live.Evaluated >= 300, $"only {live.Evaluated} events scored");
        Assert.True(live.Recall >= 1.2 * frozen.Recall, $"live Recall@50 {live.Recall:F3} vs frozen {frozen.Recall:F3}");

        // And the Prometheus endpoint exposes ingestion, serving (per channel, model version, refresh lag),
        // trainer (online recall) and Orleans grain-count metrics
        var metrics = await silo.Http.GetStringAsync("/metrics");
        foreach (var name in new[]
        {
            "mic_ingest_records", "mic_ingest_lag", "mic_ingest_dead_lettered", "mic_ingest_freshness",
            "mic_serving_retrieve_duration", "mic_serving_channel_duration", "mic_serving_model_version", "mic_serving_refresh_lag",
            "mic_trainer_online_recall", "mic_trainer_online_hit_rate", "mic_trainer_model_version", "mic_trainer_publish_lag", "mic_trainer_events",
        })
        {
            Assert.True(metrics.Contains(name, StringComparison.Ordinal), $"/metrics lacks {name}");
        }

        Assert.Contains("channel=\"u2u2i\"", metrics, StringComparison.Ordinal);
        var orleans = metrics.Split('\n').Where(l => l.StartsWith("orleans", StringComparison.Ordinal) && l.Contains("activation", StringComparison.Ordinal)).ToList();
        Assert.True(orleans.Count > 0, "no Orleans activation metric: " + string.Join(" ", metrics.Split('\n').Where(l => l.StartsWith("orleans", StringComparison.Ordinal)).Select(l => l.Split('{', ' ')[0]).Distinct().Take(40)));

        // And the online metrics file plots (mic report): both models, every channel, the version change points
        var rows = OnlineMetricsFile.Read(Path.Combine(store.Path, "online-metrics.csv"));
        Assert.Equal(8, rows.Select(r => (r.Model, r.Channel)).Distinct().Count());
        Assert.True(rows.Select(r => r.Version).Distinct().Count() >= 3);
        var png = Path.Combine(store.Path, "online-recall.png");
        Assert.True(MIC.Streaming.Reports.OnlineRecallChart.Save(rows, png) >= 8);
        var bytes = await File.ReadAllBytesAsync(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        Assert.True(bytes.Length > 10_000, $"{bytes.Length} bytes");
    }

    [Fact]
    public async Task Trainer_WithMaxUsers_PublishesAtMostTheCap_AndForgottenUsersAreStillServedFromTheirLiveHistory()
    {
        // Given a trainer capped at 300 users and a stream of 600 users
        using var store = new TempDir();
        var settings = TrainerSettings(store.Path);
        settings["Trainer:MaxUsers"] = "300";
        await using var silo = await TestSilo.StartAsync("cap.clicks", 4, settings);
        var serving = silo.App.Services.GetRequiredService<ServingModel>();
        var stream = new DriftingClicks(new DriftOptions { Users = 600, Items = 300, Groups = 10 });
        using var publisher = new ClickPublisher(silo.Kafka.BootstrapServers, "cap.clicks");

        // When the stream flows and the trainer publishes twice
        await publisher.ReplayAsync(stream.Phase(0, 20), 0);
        await StreamingCluster.WaitUntilAsync(() => Task.FromResult(serving.CurrentVersion >= 2), TimeSpan.FromSeconds(120), "two versions served");

        // Then the published versions hold at most the cap (the trainer's table, its dataset, the U2U2I index)
        var info = (await silo.App.Services.GetRequiredService<IGrainFactory>().GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey).GetCurrentAsync())!;
        using var version = ModelStore.Load(info);
        output.WriteLine($"version {info.Version}: {version.Users.Count} users of 600; trainer table {silo.App.Services.GetRequiredService<TrainerHost>().LastStatus?.Users}");
        Assert.InRange(version.Users.Count, 1, 300);

        // And a forgotten user is still served from the history its user grain holds, not as a cold start
        var forgotten = Enumerable.Range(0, 600).Select(u => "u" + u.ToString(System.Globalization.CultureInfo.InvariantCulture)).Where(u => !version.Users.TryGetIndex(u, out _)).Take(20).ToList();
        Assert.NotEmpty(forgotten);
        foreach (var user in forgotten)
        {
            var answer = await silo.Http.GetFromJsonAsync<JsonElement>($"/v1/users/{user}/candidates?k=20");
            Assert.False(answer.GetProperty("coldStart").GetBoolean(), $"{user} was served as a cold start");
            Assert.Equal(20, answer.GetProperty("items").GetArrayLength());
        }
    }

    [Fact]
    public async Task TrainerSiloKilledMidUpdate_ServingKeepsLastVersion_AndAnotherSiloResumesFromCheckpointAndOffsets()
    {
        // Given 2 serving+trainer silos on Redis and a trainer that has published
        using var store = new TempDir();
        using var redis = new RedisServer();
        using var kafka = new MockKafkaCluster(1);
        kafka.CreateTopic("t.clicks", 4);
        kafka.CreateTopic("t.clicks.dlq", 1);
        var settings = StreamingCluster.KafkaSettings(kafka, "t.clicks", "t-ingest");
        foreach (var (k, v) in TrainerSettings(store.Path))
        {
            settings[k] = v;
        }

        var logs = new CapturingLoggerProvider();
        var cluster = await StreamingCluster.StartAsync(2, "trainer-" + Guid.NewGuid().ToString("N")[..8], redis, settings, logs);
        try
        {
            var stream = new DriftingClicks(new DriftOptions { Users = 300, Items = 300, NewItemsPerPhase = 200, Groups = 10 });
            var events = stream.Phase(0, 20).Concat(stream.Phase(1, 30)).ToArray();
            using var publisher = new ClickPublisher(kafka.BootstrapServers, "t.clicks");
            var trainer = cluster.Client.GetGrain<ITrainerGrain>(TrainerKeepAlive.TrainerKey);
            await publisher.ReplayAsync(events.Take(9000), 0);
            await StreamingCluster.WaitUntilAsync(async () => (await trainer.GetStatusAsync()).PublishedVersion >= 2, TimeSpan.FromSeconds(180), "two versions published");

            // When the trainer's silo is killed while it trains an update
            await publisher.ReplayAsync(events.Skip(9000).Take(3000), 0);
            var before = await trainer.GetStatusAsync();
            await StreamingCluster.WaitUntilAsync(async () => (await trainer.GetStatusAsync()).State is "training" or "publishing", TimeSpan.FromSeconds(60), "an update in progress");
            var victim = cluster.GetActiveSilos().Single(s => s.Name == before.Silo);
            var registry = cluster.Client.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey);
            var servedAtKill = (await registry.GetCurrentAsync())!.Version;
            await cluster.KillSiloAsync(victim);

            // Then the surviving silo keeps serving the last published version
            var survivor = cluster.GetActiveSilos().Single();
            var serving = cluster.GetSiloServiceProvider(survivor.SiloAddress).GetRequiredService<ServingModel>();
            Assert.True(serving.CurrentVersion >= servedAtKill - 1);
            var answer = await cluster.Client.GetGrain<IRetrievalGrain>(0).GetCandidatesAsync(new CandidateRequest("u1", 10, RetrievalChannels.All));
            Assert.NotEmpty(answer.Items);

            // And the trainer resumes on the survivor from the last version's checkpoint and positions
            await publisher.ReplayAsync(events.Skip(12000), 0);
            TrainerStatus after = before;
            await StreamingCluster.WaitUntilAsync(
                async () => (after = await trainer.GetStatusAsync()).Silo == survivor.Name && after.EventsSeen >= events.Length && after.PublishedVersion > servedAtKill,
                TimeSpan.FromSeconds(240), "the trainer resumed elsewhere, read everything and published");
            output.WriteLine($"killed {before.Silo} at version {servedAtKill}; resumed on {after.Silo}: version {after.PublishedVersion}, events {after.EventsSeen}");
            foreach (var line in logs.Lines.Where(l => l.Contains("Trainer", StringComparison.Ordinal) || l.Contains("version", StringComparison.Ordinal)))
            {
                output.WriteLine(line);
            }

            // Exactly every record once: nothing skipped, nothing counted twice across the takeover
            Assert.Equal(events.Length, after.EventsSeen);
            Assert.Contains(logs.Lines, l => l.Contains("Trainer resumed from model version", StringComparison.Ordinal));
            await StreamingCluster.WaitUntilAsync(() => Task.FromResult(serving.CurrentVersion >= after.PublishedVersion), TimeSpan.FromSeconds(30), "survivor serves the new version");
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
