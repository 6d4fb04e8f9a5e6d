using Xunit.Abstractions;
using System.Globalization;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Grains;
using MIC.Streaming.Ingestion;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>
/// Kafka → user/item grains on a 3-silo cluster persisted in a real Redis: exactly-once effect
/// through a silo crash and a full restart.
/// </summary>
[Collection("cluster")]
public sealed class IngestionClusterTests(ITestOutputHelper output)
{
    private const int Users = 2000;
    private const int EventsPerUser = 50;   // 100k events
    private const int Items = 500;

    [Fact]
    public async Task Ingest_SiloKilledMidStream_EverySequenceExactAndSurvivesRestart()
    {
        // Given a 3-silo cluster on Redis consuming a 32-partition topic
        using var redis = new RedisServer();
        using var kafka = new MockKafkaCluster(3);
        kafka.CreateTopic("clicks", 32);
        kafka.CreateTopic("clicks.dlq", 4);
        var settings = StreamingCluster.KafkaSettings(kafka, "clicks", "ingest");
        var serviceId = "ingest-" + Guid.NewGuid().ToString("N")[..8];
        var logs = new CapturingLoggerProvider();
        var cluster = await StreamingCluster.StartAsync(3, serviceId, redis, settings, logs);
        var expected = ExpectedEvents();
        try
        {
            // When 100k events are produced and one silo is killed once ~30 % are applied
            using (var publisher = new ClickPublisher(kafka.BootstrapServers, "clicks"))
            {
                var produce = Task.Run(() => publisher.ReplayAsync(Interleave(expected), 0));
                await StreamingCluster.WaitUntilAsync(
                    () => Task.FromResult(StreamingCluster.Ingestion(cluster).Sum(i => i.TotalApplied) >= 30_000),
                    TimeSpan.FromSeconds(120), "30k events applied");
                var appliedAtKill = StreamingCluster.Ingestion(cluster).Sum(i => i.TotalApplied);
                await cluster.KillSiloAsync(cluster.Silos[1]);
                output.WriteLine($"killed a silo at {appliedAtKill} applied; producer done: {produce.IsCompleted}");
                await produce;
                Assert.Equal(0, publisher.Flush(TimeSpan.FromSeconds(30)));
                Assert.Equal(0, publisher.Failed);
            }

            // Then every user's stored sequence is exactly its events, in order: 0 lost, 0 duplicated
            var complete = 0;
            try
            {
                await StreamingCluster.WaitUntilAsync(async () => (complete = await CountComplete(cluster.Client, expected)) == Users, TimeSpan.FromSeconds(60), "all users complete");
            }
            catch (TimeoutException)
            {
                var s = StreamingCluster.Ingestion(cluster).ToList();
                output.WriteLine($"TIMEOUT: complete {complete}/{Users}; per silo records/applied/skipped/rewinds/commits/lag: " +
                    string.Join(" | ", s.Select(i => $"{i.TotalRecords}/{i.TotalApplied}/{i.TotalSkipped}/{i.TotalRewinds}/{i.TotalCommits}/{i.Lag}")));
                await DescribeIncomplete(cluster.Client, expected);
                foreach (var line in logs.Lines)
                {
                    output.WriteLine(line);
                }

                throw;
            }

            var stats = StreamingCluster.Ingestion(cluster).ToList();
            output.WriteLine($"survivors: records {stats.Sum(i => i.TotalRecords)}, applied {stats.Sum(i => i.TotalApplied)}, skipped {stats.Sum(i => i.TotalSkipped)}, rewinds {stats.Sum(i => i.TotalRewinds)}, commits {stats.Sum(i => i.TotalCommits)}");
            await AssertExact(cluster.Client, expected);

            // And item counters (applied with each flush, one commit interval behind users) are exact
            try
            {
                await StreamingCluster.WaitUntilAsync(() => ItemCountsMatch(cluster.Client, expected), TimeSpan.FromSeconds(30), "item counts complete");
            }
            catch (TimeoutException)
            {
                var want = expected.Values.SelectMany(e => e).GroupBy(e => e.ItemId).ToDictionary(g => g.Key, g => (long)g.Count());
                var views = await Task.WhenAll(want.Keys.Select(i => cluster.Client.GetGrain<IItemGrain>(i).GetAsync()));
                output.WriteLine($"items short: {views.Count(v => v.Interactions < want[v.ItemId])}, over: {views.Count(v => v.Interactions > want[v.ItemId])}, missing events: {views.Sum(v => want[v.ItemId] - v.Interactions)}");
                foreach (var line in logs.Lines)
                {
                    output.WriteLine(line);
                }

                throw;
            }

            await AssertItemCounts(cluster.Client, expected);

            // And all offsets get committed (the flush rule) before we stop
            await Task.Delay(1500);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }

        // When the whole cluster restarts from Redis with ingestion off
        settings["Kafka:ConsumerEnabled"] = "false";
        var restarted = await StreamingCluster.StartAsync(2, serviceId, redis, settings);
        try
        {
            // Then every sequence is still exact
            await AssertExact(restarted.Client, expected);
            await AssertItemCounts(restarted.Client, expected);
        }
        finally
        {
            await restarted.StopAllSilosAsync();
            await restarted.DisposeAsync();
        }
    }

    /// <summary>User u's events: item ids from a user-specific stride, event ids "u{u}:{i}".</summary>
    private static Dictionary<string, ClickEvent[]> ExpectedEvents()
    {
        var result = new Dictionary<string, ClickEvent[]>();
        for (var u = 0; u < Users; u++)
        {
            var user = "u" + u.ToString(CultureInfo.InvariantCulture);
            result[user] = [.. Enumerable.Range(0, EventsPerUser).Select(i => new ClickEvent(
                $"{user}:{i}", user, "i" + ((u * 7 + i * 13) % Items).ToString(CultureInfo.InvariantCulture), 1_700_000_000 + i, Category: "c" + (i % 5)))];
        }

        return result;
    }

    /// <summary>Round-robin over users so every partition is busy throughout.</summary>
    private static IEnumerable<ClickEvent> Interleave(Dictionary<string, ClickEvent[]> expected)
    {
        for (var i = 0; i < EventsPerUser; i++)
        {
            foreach (var events in expected.Values)
            {
                yield return events[i];
            }
        }
    }

    private static async Task<int> CountComplete(IGrainFactory grains, Dictionary<string, ClickEvent[]> expected)
    {
        var views = await Task.WhenAll(expected.Keys.Select(u => grains.GetGrain<IUserGrain>(u).GetAsync()));
        return views.Count(v => v.TotalEvents >= EventsPerUser);
    }

    /// <summary>For a failed run: which events the first incomplete users lack, and their stored offsets.</summary>
    private async Task DescribeIncomplete(IGrainFactory grains, Dictionary<string, ClickEvent[]> expected)
    {
        var views = await Task.WhenAll(expected.Keys.Select(u => grains.GetGrain<IUserGrain>(u).GetAsync()));
        foreach (var view in views.Where(v => v.TotalEvents < EventsPerUser).Take(8))
        {
            var got = view.Recent.Select(r => r.EventId).ToHashSet();
            var missing = expected[view.UserId].Select((e, i) => (e, i)).Where(p => !got.Contains(p.e.EventId)).Select(p => p.i);
            output.WriteLine($"{view.UserId}: {view.TotalEvents} events, missing #{string.Join(",", missing)}; offsets {string.Join(",", view.LastApplied.Select(o => $"{o.Partition}:{o.Offset}"))}");
        }
    }

    private static async Task AssertExact(IGrainFactory grains, Dictionary<string, ClickEvent[]> expected)
    {
        var views = await Task.WhenAll(expected.Keys.Select(u => grains.GetGrain<IUserGrain>(u).GetAsync()));
        var lost = 0;
        var duplicated = 0;
        var misordered = 0;
        foreach (var view in views)
        {
            var want = expected[view.UserId].Select(e => e.EventId).ToArray();
            var got = view.Recent.Select(r => r.EventId).ToArray();
            lost += want.Except(got).Count();
            duplicated += got.Length - got.Distinct().Count();
            misordered += got.SequenceEqual(want) ? 0 : 1;
            Assert.Equal(EventsPerUser, view.TotalEvents);
        }

        Assert.Equal((0, 0, 0), (lost, duplicated, misordered));
    }

    private static async Task<bool> ItemCountsMatch(IGrainFactory grains, Dictionary<string, ClickEvent[]> expected)
    {
        var want = expected.Values.SelectMany(e => e).GroupBy(e => e.ItemId).ToDictionary(g => g.Key, g => (long)g.Count());
        var views = await Task.WhenAll(want.Keys.Select(i => grains.GetGrain<IItemGrain>(i).GetAsync()));
        return views.All(v => v.Interactions >= want[v.ItemId]);
    }

    private static async Task AssertItemCounts(IGrainFactory grains, Dictionary<string, ClickEvent[]> expected)
    {
        var want = expected.Values.SelectMany(e => e).GroupBy(e => e.ItemId).ToDictionary(g => g.Key, g => (long)g.Count());
        var views = await Task.WhenAll(want.Keys.Select(i => grains.GetGrain<IItemGrain>(i).GetAsync()));
        Assert.All(views, v => Assert.Equal(want[v.ItemId], v.Interactions));
    }
}
