using MIC.Streaming.Grains;
using Orleans.TestingHost;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>One in-memory silo shared by the grain-level tests (each test uses its own grain keys).</summary>
public sealed class SingleSiloFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync() =>
        Cluster = await StreamingCluster.StartAsync(1, "grains-" + Guid.NewGuid().ToString("N")[..8], redis: null, new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = "127.0.0.1:9",   // consumer disabled: grains only
            ["Kafka:ConsumerEnabled"] = "false",
            ["Sequences:MaxUserSequence"] = "5",
        });

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}

public sealed class GrainTests(SingleSiloFixture fixture) : IClassFixture<SingleSiloFixture>
{
    private static Interaction Click(string id, string item) => new(id, item, 1, "click", null);

    private IUserGrain NewUser() => fixture.Grains.GetGrain<IUserGrain>("user-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Apply_FieldsBeyondTheBound_AreDroppedAndCounted_ExistingKeysStillUpdate()
    {
        // Before: every new key was kept (1,300 events with new keys → 9,920 fields, 3.25 MB)
        var user = NewUser();
        var first = Enumerable.Range(0, 100).ToDictionary(i => "k" + i, i => "v" + i);

        var result = await user.ApplyAsync(new UserEventBatch(0, [1], [Click("f1", "i1")], first));
        var second = await user.ApplyAsync(new UserEventBatch(0, [2], [Click("f2", "i2")], new Dictionary<string, string> { ["k0"] = "updated", ["new"] = "x" }));
        var view = await user.GetAsync();

        Assert.Equal(100 - 64, result.FieldsDropped);
        Assert.Equal(1, second.FieldsDropped);
        Assert.Equal(64, view.Fields.Count);
        Assert.Equal("updated", view.Fields["k0"]);
        Assert.Equal(2, view.TotalEvents); // the events themselves are applied
    }

    [Fact]
    public async Task Apply_ReplayedOffsets_AreSkipped()
    {
        var user = NewUser();
        Assert.Equal(new ApplyResult(2, 0), await user.ApplyAsync(new UserEventBatch(3, [10, 11], [Click("a", "i1"), Click("b", "i2")])));

        var replay = await user.ApplyAsync(new UserEventBatch(3, [10, 11, 12], [Click("a", "i1"), Click("b", "i2"), Click("c", "i3")], PreviousOffset: 11));

        Assert.Equal(new ApplyResult(1, 2), replay);
        Assert.Equal(["a", "b", "c"], (await user.GetAsync()).Recent.Select(r => r.EventId));
    }

    [Fact]
    public async Task Apply_SameEventIdAtNewOffset_IsSkippedAsProducerRetry()
    {
        var user = NewUser();
        await user.ApplyAsync(new UserEventBatch(0, [1], [Click("e1", "i1")]));

        var retry = await user.ApplyAsync(new UserEventBatch(0, [2], [Click("e1", "i1")]));

        Assert.Equal(new ApplyResult(0, 1), retry);
        Assert.Equal(1, (await user.GetAsync()).TotalEvents);
    }

    [Fact]
    public async Task Apply_MoreThanMaxSequence_KeepsNewest()
    {
        var user = NewUser();
        var events = Enumerable.Range(0, 8).Select(i => Click("e" + i, "i" + i)).ToArray();

        await user.ApplyAsync(new UserEventBatch(0, [.. Enumerable.Range(0, 8).Select(i => (long)i)], events));

        var view = await user.GetAsync();
        Assert.Equal(["e3", "e4", "e5", "e6", "e7"], view.Recent.Select(r => r.EventId));
        Assert.Equal(8, view.TotalEvents);
        Assert.Equal(["i5", "i6", "i7"], (await user.GetRecentItemsAsync(3)).Items);
    }

    [Fact]
    public async Task Apply_RetryDedupe_CoversExactlyTheKeptWindow_AndDuplicatesInsideOneBatch()
    {
        var user = NewUser();
        await user.ApplyAsync(new UserEventBatch(0, [.. Enumerable.Range(0, 8).Select(i => (long)i)], [.. Enumerable.Range(0, 8).Select(i => Click("e" + i, "i" + i))]));

        // e7 is kept (a retry), e1 was trimmed out of the 5-event window (applied again), and the
        // second "n" inside this batch is a retry of the first.
        var result = await user.ApplyAsync(new UserEventBatch(0, [8, 9, 10, 11], [Click("e7", "i7"), Click("e1", "i1"), Click("n", "i9"), Click("n", "i9")]));

        Assert.Equal(new ApplyResult(2, 2), result);
        Assert.Equal(["e5", "e6", "e7", "e1", "n"], (await user.GetAsync()).Recent.Select(r => r.EventId));
        Assert.Equal(new ApplyResult(0, 1), await user.ApplyAsync(new UserEventBatch(0, [12], [Click("e5", "i5")])));
    }

    [Fact]
    public async Task Apply_GrainMissingEarlierRecords_ReportsLostAndAppliesNothing()
    {
        // A fresh activation stands for one rebuilt from storage after its silo died unflushed.
        var user = NewUser();

        var result = await user.ApplyAsync(new UserEventBatch(1, [20, 21], [Click("x", "i1"), Click("y", "i2")], PreviousOffset: 9));

        Assert.True(result.Lost);
        Assert.Equal(0, (await user.GetAsync()).TotalEvents);
    }

    [Fact]
    public async Task Flush_StateWithoutExpectedOffsets_IsNotPersistedOk()
    {
        var user = NewUser();
        await user.ApplyAsync(new UserEventBatch(2, [5], [Click("a", "i1")]));

        var ok = await user.FlushAsync([new PartitionOffset(2, 5)]);
        var missing = await user.FlushAsync([new PartitionOffset(2, 6)]);

        Assert.Equal(new FlushResult(true, true), ok);
        Assert.Equal(new FlushResult(false, false), missing);
    }

    [Fact]
    public async Task ItemGrain_CountsAndKeepsDistinctRecentUsers()
    {
        var item = fixture.Grains.GetGrain<IItemGrain>("item-" + Guid.NewGuid().ToString("N"));

        await item.ApplyAsync(new ItemEventBatch(0, [1, 2, 3], ["u1", "u2", "u1"], [100, 200, 300], "c1"));
        await item.ApplyAsync(new ItemEventBatch(0, [3], ["u1"], [300], "c1", PreviousOffset: 3));

        var view = await item.GetAsync();
        Assert.Equal(3, view.Interactions);
        Assert.Equal(["u2", "u1"], view.RecentUsers);
        Assert.Equal(("c1", 300L), (view.Category, view.LastTimestamp));
    }

    [Fact]
    public async Task Registry_OlderVersion_IsRejected()
    {
        var registry = fixture.Grains.GetGrain<IModelRegistryGrain>("test-" + Guid.NewGuid().ToString("N"));
        await registry.PublishAsync(new ModelVersionInfo(3, "/m/v3", DateTimeOffset.UnixEpoch, "three"));

        await Assert.ThrowsAsync<ArgumentException>(() => registry.PublishAsync(new ModelVersionInfo(2, "/m/v2", DateTimeOffset.UnixEpoch, "two")));

        Assert.Equal(3, (await registry.GetCurrentAsync())!.Version);
    }
}
