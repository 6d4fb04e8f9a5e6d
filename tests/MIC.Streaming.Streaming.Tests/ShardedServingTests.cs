using System.Collections.Concurrent;
using System.Diagnostics;
using MIC.Streaming.Grains;
using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Retrieval.Channels;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>
/// Serving:Mode = Sharded on a 3-silo cluster: index shards are grains spread over the silos, answers
/// equal replicated ones, a query never mixes versions, and a killed silo costs partial answers within
/// the budget, never a failure.
/// </summary>
[Collection("cluster")]
public sealed class ShardedServingTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int K = 50;

    /// <summary>
    /// The equality and swap tests must never see a partial answer, so their shard budget is generous
    /// (a busy 2-core machine can hold one shard call past 400 ms); the killed-silo test uses 400 ms.
    /// </summary>
    private static Dictionary<string, string?> Settings(string store, int shards, int replicas = 1, string budget = "00:00:05") => new()
    {
        ["Kafka:BootstrapServers"] = "127.0.0.1:9",
        ["Kafka:ConsumerEnabled"] = "false",
        ["Serving:PollInterval"] = "00:00:00.200",
        ["Serving:Mode"] = "Sharded",
        ["Serving:Shards"] = shards.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Serving:ShardReplicas"] = replicas.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Serving:ShardBudget"] = budget,
        ["Serving:ShardRetireAfter"] = "00:00:02",
        ["Channels:SimilarItemsPerHistoryItem"] = "20", // the test model's neighbour table width
        ["Silo:ModelStore"] = store,
    };

    [Fact]
    public async Task Sharded_AnswersEqualReplicated_ForEveryUser_AndShardsSpreadOverTheSilos()
    {
        // Given 3 silos in sharded mode and a version written as 4 shards (exact indexes)
        using var dir = new TempDir();
        var cluster = await StreamingCluster.StartAsync(3, "shard-eq-" + Guid.NewGuid().ToString("N")[..8], redis: null, Settings(dir.Path, shards: 4));
        try
        {
            var info = await TestModel.TrainAndPublishAsync(cluster.Client, dir.Path, steps: 20, TestModel.LargerDataset, shards: 4);
            var servings = Servings(cluster);
            await StreamingCluster.WaitUntilAsync(() => Task.FromResult(servings.All(s => s.CurrentVersion == info.Version)), TimeSpan.FromSeconds(60), "every silo serves the sharded version");

            // Then the shards are on different silos: 4 shards over 3 silos is 2 + 1 + 1
            var placed = await Task.WhenAll(Enumerable.Range(0, 4).Select(s => cluster.Client.GetGrain<IIndexShardGrain>(IndexShardKey.Format(info.Version, s, 0)).WarmAsync()));
            Assert.Equal([1, 1, 2], placed.GroupBy(p => p.Silo).Select(g => g.Count()).Order().ToArray());
            Assert.Equal(TestModel.LargerDataset.ItemCount, placed.Sum(p => p.Items));

            // And for 500 users the sharded answer (through any silo) equals the replicated one on the same version
            using var reference = Reference(cluster, info);
            var differences = 0;
            for (var u = 0; u < 500; u++)
            {
                var (user, recent) = User(u);
                var expected = reference.Retrieve(user, recent, K, RetrievalChannels.All);
                var actual = await servings[u % servings.Count].RetrieveAsync(user, recent, K, RetrievalChannels.All);
                Assert.False(actual.Partial);
                Assert.Equal(info.Version, actual.ModelVersion);
                if (!Same(expected, actual))
                {
                    differences++;
                    output.WriteLine($"{user}: replicated {string.Join(",", expected.Items.Take(8).Select(i => i.ItemId))} sharded {string.Join(",", actual.Items.Take(8).Select(i => i.ItemId))}");
                }
            }

            Assert.Equal(0, differences);

            // And each channel alone agrees too
            foreach (var channel in new[] { RetrievalChannels.U2I, RetrievalChannels.U2U2I, RetrievalChannels.U2I2I })
            {
                for (var u = 0; u < 50; u++)
                {
                    var (user, recent) = User(u);
                    Assert.True(Same(reference.Retrieve(user, recent, K, channel), await servings[0].RetrieveAsync(user, recent, K, channel)), $"{channel} differs for {user}");
                }
            }

            // And a rollback republishes the shards too: after a version 2, rolling back to 1 publishes
            // version 3 (1's files, re-stamped), served sharded with 1's answers
            var second = await TestModel.TrainAndPublishAsync(cluster.Client, dir.Path, steps: 5, TestModel.LargerDataset, shards: 4, seed: 9);
            await StreamingCluster.WaitUntilAsync(() => Task.FromResult(servings.All(s => s.CurrentVersion == second.Version)), TimeSpan.FromSeconds(60), "every silo serves version 2");
            var rolled = await cluster.Client.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey).RollbackAsync(info.Version, dir.Path);
            await StreamingCluster.WaitUntilAsync(() => Task.FromResult(servings.All(s => s.CurrentVersion == rolled.Version)), TimeSpan.FromSeconds(60), "every silo serves the rollback");
            for (var u = 0; u < 50; u++)
            {
                var (user, recent) = User(u);
                var answer = await servings[u % servings.Count].RetrieveAsync(user, recent, K, RetrievalChannels.All);
                Assert.Equal(rolled.Version, answer.ModelVersion);
                Assert.False(answer.Partial);
                Assert.True(Same(reference.Retrieve(user, recent, K, RetrievalChannels.All), answer), $"the rollback answers {user} differently");
            }
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task Sharded_UnderContinuousSwaps_EveryAnswerIsOneVersions_AndOldShardsRetire()
    {
        // Given 3 sharded silos serving version 1
        using var dir = new TempDir();
        var cluster = await StreamingCluster.StartAsync(3, "shard-swap-" + Guid.NewGuid().ToString("N")[..8], redis: null, Settings(dir.Path, shards: 3));
        try
        {
            var versions = new Dictionary<long, ModelVersionInfo>();
            var first = await TestModel.TrainAndPublishAsync(cluster.Client, dir.Path, steps: 10, TestModel.LargerDataset, shards: 3, seed: 1);
            versions[first.Version] = first;
            var servings = Servings(cluster);
            await StreamingCluster.WaitUntilAsync(() => Task.FromResult(servings.All(s => s.CurrentVersion == 1)), TimeSpan.FromSeconds(60), "version 1 served");

            // When 3 clients (one per silo) query continuously while versions 2..4 (different weights) are published
            var answers = new ConcurrentBag<(int User, CandidateResponse Response)>();
            using var stop = new CancellationTokenSource();
            var clients = servings.Select((serving, c) => Task.Run(async () =>
            {
                var u = c * 7;
                while (!stop.IsCancellationRequested)
                {
                    var (user, recent) = User(u % 200);
                    answers.Add((u % 200, await serving.RetrieveAsync(user, recent, K, RetrievalChannels.All)));
                    u++;
                }
            })).ToList();
            for (var v = 2; v <= 4; v++)
            {
                var info = await TestModel.TrainAndPublishAsync(cluster.Client, dir.Path, steps: 10, TestModel.LargerDataset, shards: 3, seed: v);
                versions[info.Version] = info;
                await StreamingCluster.WaitUntilAsync(() => Task.FromResult(servings.All(s => s.CurrentVersion == info.Version)), TimeSpan.FromSeconds(60), $"version {v} served");
                await Task.Delay(300);
            }

            await stop.CancelAsync();
            await Task.WhenAll(clients);

            // Then every answer equals the replicated answer of the version it reports: no answer mixed
            // a tower of one version with shards of another
            var byVersion = answers.GroupBy(a => a.Response.ModelVersion).ToDictionary(g => g.Key, g => g.ToList());
            output.WriteLine($"{answers.Count} answers: " + string.Join(", ", byVersion.OrderBy(p => p.Key).Select(p => $"v{p.Key} {p.Value.Count}")));
            Assert.True(byVersion.Count >= 3, "queries did not span the swaps");
            Assert.All(answers, a => Assert.False(a.Response.Partial));
            var mixed = 0;
            foreach (var (version, list) in byVersion)
            {
                using var reference = Reference(cluster, versions[version]);
                foreach (var (u, response) in list.Take(150))
                {
                    var (user, recent) = User(u);
                    mixed += Same(reference.Retrieve(user, recent, K, RetrievalChannels.All), response) ? 0 : 1;
                }
            }

            Assert.Equal(0, mixed);

            // And the shards of superseded versions deactivate once idle, freeing their memory
            var instruments = cluster.GetActiveSilos().Select(s => cluster.GetSiloServiceProvider(s.SiloAddress).GetRequiredService<ServingInstruments>()).ToList();
            var current = await Task.WhenAll(Enumerable.Range(0, 3).Select(s => cluster.Client.GetGrain<IIndexShardGrain>(IndexShardKey.Format(4, s, 0)).WarmAsync()));
            var currentBytes = current.Sum(s => s.Bytes);
            await StreamingCluster.WaitUntilAsync(() => Task.FromResult(instruments.Sum(i => i.ShardBytes) == currentBytes), TimeSpan.FromSeconds(30), "only version 4's shards stay loaded");
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Sharded_SiloKilledDuringAQueryStream_AnswersStayWithinBudget_PartialOnlyWithoutReplicas(int replicas)
    {
        // Given 3 sharded silos, 6 shards (2 per silo), each shard with `replicas` grains
        using var dir = new TempDir();
        var cluster = await StreamingCluster.StartAsync(3, "shard-kill-" + Guid.NewGuid().ToString("N")[..8], redis: null, Settings(dir.Path, shards: 6, replicas, budget: "00:00:00.400"));
        try
        {
            var info = await TestModel.TrainAndPublishAsync(cluster.Client, dir.Path, steps: 10, TestModel.LargerDataset, shards: 6);
            var survivors = cluster.GetActiveSilos().Take(2).Select(s => cluster.GetSiloServiceProvider(s.SiloAddress).GetRequiredService<ServingModel>()).ToList();
            var servings = Servings(cluster);
            await StreamingCluster.WaitUntilAsync(() => Task.FromResult(servings.All(s => s.CurrentVersion == info.Version)), TimeSpan.FromSeconds(60), "version served");
            using var reference = Reference(cluster, info);

            // When the third silo is killed while two clients query through the survivors
            var results = new ConcurrentQueue<(long At, double Ms, bool Partial, bool Exact, string? Error)>();
            var clock = Stopwatch.StartNew();
            using var stop = new CancellationTokenSource();
            var clients = survivors.Select((serving, c) => Task.Run(async () =>
            {
                var u = c * 13;
                while (!stop.IsCancellationRequested)
                {
                    var (user, recent) = User(u++ % 300);
                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        var response = await serving.RetrieveAsync(user, recent, K, RetrievalChannels.All);
                        var exact = Same(reference.Retrieve(user, recent, K, RetrievalChannels.All), response);
                        results.Enqueue((clock.ElapsedMilliseconds, Stopwatch.GetElapsedTime(started).TotalMilliseconds, response.Partial, exact, null));
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        results.Enqueue((clock.ElapsedMilliseconds, Stopwatch.GetElapsedTime(started).TotalMilliseconds, false, false, ex.GetType().Name + ": " + ex.Message));
                    }
                }
            })).ToList();
            await Task.Delay(1000);
            var killedAt = clock.ElapsedMilliseconds;
            await cluster.KillSiloAsync(cluster.GetActiveSilos().Last());

            // Then, once the shards re-activated on the survivors, answers are whole and exact again
            await StreamingCluster.WaitUntilAsync(
                () => Task.FromResult(results.Count(r => r.At > killedAt && r.Exact && !r.Partial) >= 50 && results.Reverse().Take(20).All(r => r.Exact)),
                TimeSpan.FromSeconds(90), "exact answers after the shards moved");
            await stop.CancelAsync();
            await Task.WhenAll(clients);
            var after = results.Where(r => r.At > killedAt).ToList();
            output.WriteLine($"replicas {replicas}: {results.Count} answers, {after.Count} after the kill: {after.Count(r => r.Partial)} partial, max {after.Max(r => r.Ms):F0} ms, errors {after.Count(r => r.Error is not null)}");
            Assert.All(results, r => Assert.Null(r.Error)); // never a failure
            Assert.All(results, r => Assert.True(r.Ms < 2_000, $"a query took {r.Ms:F0} ms")); // the 400 ms shard budget, plus the tower and the merge on a busy 2-core box
            Assert.All(results.Where(r => !r.Partial), r => Assert.True(r.Exact)); // a whole answer is an exact one
            // Without replicas, answers may be partial while the killed silo's shards move; whether any
            // query falls in that window is timing (a fresh-clone run had none: the shards re-activated on
            // the survivors first). GrainShardSetTests shows the budget rule that makes them partial.
            if (replicas > 1)
            {
                Assert.DoesNotContain(after, r => r.Partial); // the other replica answered
            }
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    private static List<ServingModel> Servings(InProcessTestCluster cluster) =>
        [.. cluster.GetActiveSilos().Select(s => cluster.GetSiloServiceProvider(s.SiloAddress).GetRequiredService<ServingModel>())];

    /// <summary>The same version served replicated, in this process, with the silos' channel options.</summary>
    private static ServingModel Reference(InProcessTestCluster cluster, ModelVersionInfo info)
    {
        var services = cluster.GetSiloServiceProvider(cluster.GetActiveSilos().First().SiloAddress);
        var model = new ServingModel(services.GetRequiredService<ChannelOptions>(), services.GetRequiredService<ServingInstruments>());
        model.Publish(ModelStore.Load(info));
        return model;
    }

    private static (string User, RecentItems Recent) User(int u)
    {
        var data = TestModel.LargerDataset;
        var items = data.Sequences.Sequence(u).ToArray().Select(i => data.Items.GetRaw(i)).ToArray();
        return (data.Users.GetRaw(u), new RecentItems(items[^Math.Min(items.Length, 30)..], null, null));
    }

    private static bool Same(CandidateResponse a, CandidateResponse b) =>
        a.Items.Length == b.Items.Length
        && a.Items.Zip(b.Items).All(p => p.First.ItemId == p.Second.ItemId && p.First.Channels == p.Second.Channels && Math.Abs(p.First.Score - p.Second.Score) < 1e-5f);
}
