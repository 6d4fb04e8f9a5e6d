using MIC.Streaming.Grains;
using StackExchange.Redis;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>
/// Reads of user and item grains do not queue behind a flush's storage write: candidates are served
/// from memory while Redis is slow (here: paused for writes), and the flush still completes afterwards.
/// </summary>
[Collection("cluster")]
public sealed class ReadDuringFlushTests
{
    private static Interaction Click(string id, string item) => new(id, item, 1, "click", null);

    [Fact]
    public async Task Reads_WhileFlushWaitsForRedis_AnswerWithoutWaitingForTheWrite()
    {
        // Given a silo persisting to a real Redis, and a user and an item with applied, unflushed events
        using var redis = new RedisServer();
        var cluster = await StreamingCluster.StartAsync(1, "reads-" + Guid.NewGuid().ToString("N")[..8], redis, new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = "127.0.0.1:9",
            ["Kafka:ConsumerEnabled"] = "false",
        });
        try
        {
            var user = cluster.Client.GetGrain<IUserGrain>("u-read");
            var item = cluster.Client.GetGrain<IItemGrain>("i-read");
            await user.ApplyAsync(new UserEventBatch(0, [1, 2], [Click("e1", "i1"), Click("e2", "i2")]));
            await item.ApplyAsync(new ItemEventBatch(0, [1], ["u-read"], [100], "c1"));
            Assert.True((await user.FlushAsync([new PartitionOffset(0, 2)])).Persisted); // the storage path is warm

            await user.ApplyAsync(new UserEventBatch(0, [3], [Click("e3", "i3")]));
            using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");

            // When Redis holds every write for 3 s and both grains start a flush
            await admin.GetServers()[0].ExecuteAsync("CLIENT", "PAUSE", "3000", "WRITE");
            var userFlush = user.FlushAsync([new PartitionOffset(0, 3)]);
            var itemFlush = item.FlushAsync([new PartitionOffset(0, 1)]);
            await Task.Delay(300);
            Assert.False(userFlush.IsCompleted, "the user flush should be waiting for the paused Redis");

            // Then reads answer from memory while the writes wait, with everything applied so far
            var recent = user.GetRecentItemsAsync(10);
            var userView = user.GetAsync();
            var itemView = item.GetAsync();
            await Task.WhenAll(recent, userView, itemView).WaitAsync(TimeSpan.FromSeconds(2));
            Assert.False(userFlush.IsCompleted, "the reads should not have waited for the flush");
            Assert.Equal(["i1", "i2", "i3"], (await recent).Items);
            Assert.Equal(3, (await userView).TotalEvents);
            Assert.Equal(1, (await itemView).Interactions);

            // And the flushes complete once Redis takes writes again
            Assert.Equal(new FlushResult(true, true), await userFlush.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(new FlushResult(true, true), await itemFlush.WaitAsync(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
