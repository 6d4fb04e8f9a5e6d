using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Trainer;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>The trainer's bookkeeping, without Kafka or Orleans.</summary>
public sealed class TrainerPartsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static StreamExample Example(int i) => new(i % 7, i, [i - 1], i);

    [Fact]
    public void ReplayWindow_KeepsRecentPlusBoundedReservoir_AndHandsNewExamplesOutOnce()
    {
        var window = new ReplayWindow(recent: 100, reservoir: 50, seed: 1);
        for (var i = 1; i <= 1000; i++)
        {
            window.Add(Example(i));
        }

        Assert.Equal(150, window.Count);
        Assert.Equal(900, window.Evicted);
        var fresh = window.TakeNew();
        Assert.Equal(1000, fresh.Count);
        Assert.Equal(Enumerable.Range(1, 1000), fresh.Select(e => e.Target));
        Assert.Equal(0, window.NewCount);
        Assert.Empty(window.TakeNew());

        // The reservoir is a sample of the whole past, not only the latest evictions.
        var sample = window.Sample(2000);
        Assert.Equal(2000, sample.Count);
        Assert.Contains(sample, e => e.Target <= 450);
        Assert.Contains(sample, e => e.Target > 900);
        Assert.All(sample, e => Assert.InRange(e.Target, 1, 1000));
    }

    [Fact]
    public void ReplayWindow_SaveLoad_RoundTripsExamplesAndUntrainedMarks()
    {
        var window = new ReplayWindow(100, 20, 3);
        for (var i = 1; i <= 300; i++)
        {
            window.Add(Example(i));
        }

        window.TakeNew();
        window.Add(Example(301));
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            window.Save(writer);
        }

        buffer.Position = 0;
        var restored = new ReplayWindow(100, 20, 3);
        using (var reader = new BinaryReader(buffer))
        {
            restored.Load(reader, 3);
        }

        Assert.Equal(window.Count, restored.Count);
        Assert.Equal(window.Evicted, restored.Evicted);
        var fresh = restored.TakeNew();
        Assert.Equal([301], fresh.Select(e => e.Target));
        Assert.Equal([300], fresh.Single().History);
    }

    [Fact]
    public void ReplayWindow_CorruptFile_IsRejected()
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(0L);
            writer.Write(-5);
        }

        buffer.Position = 0;
        using var reader = new BinaryReader(buffer);
        Assert.Throws<InvalidDataException>(() => new ReplayWindow(10, 10, 1).Load(reader, 1));
    }

    [Fact]
    public void LiveCatalog_NewIdsAppend_HistoriesPrecedeTheClick_AndBuildKeepsEveryRow()
    {
        var builder = new DatasetBuilder("base");
        builder.Add("u1", "a", 1, category: "c1");
        builder.Add("u1", "b", 2, category: "c1");
        builder.Add("u2", "b", 3, category: "c1");
        var baseData = builder.Build();
        var catalog = new LiveCatalog(baseData, maxSequence: 3);

        var (u1, b, history) = catalog.Observe(new ClickEvent("e1", "u1", "b", 10), maxHistory: 5);
        Assert.Equal(baseData.Users.TryGetIndex("u1", out var r) ? r : -1, u1);
        Assert.Equal([0, 1], history); // a, b: what u1 had clicked before this click
        var (u3, c, none) = catalog.Observe(new ClickEvent("e2", "u3", "c", 11, Category: "c2"), 5);
        Assert.Equal((2, 2), (u3, c)); // new ids take the next rows
        Assert.Empty(none);
        catalog.Observe(new ClickEvent("e3", "u1", "c", 12), 5);
        Assert.Equal(["b", "b", "c"], catalog.SequenceOf(u1).Select(e => catalog.Items.GetRaw(e.Item))); // bounded to the last 3

        var built = catalog.Build("v2");
        Assert.Equal(["a", "b", "c"], built.Items.RawIds);
        Assert.Equal(["u1", "u2", "u3"], built.Users.RawIds);
        Assert.Equal("c2", built.Categories.GetRaw(built.ItemCategory[2]));
        Assert.Equal(3, built.Sequences.Length(u1));

        // A catalog started from the built dataset continues with the same rows
        var next = new LiveCatalog(built, 3);
        Assert.Equal((2, 3), (next.Observe(new ClickEvent("e4", "u3", "d", 13), 5).User, next.Observe(new ClickEvent("e5", "u3", "d", 14), 5).Item));
    }

    [Fact]
    public void LiveCatalog_Evict_KeepsTheMostRecentUsers_RenumbersThemInOrder_AndKeepsEveryItemRow()
    {
        var builder = new DatasetBuilder("base");
        builder.Add("u1", "a", 1);
        builder.Add("u2", "b", 2);
        builder.SetUserField("u2", "age", "30");
        var catalog = new LiveCatalog(builder.Build(), maxSequence: 5);
        var window = new ReplayWindow(recent: 100, reservoir: 10, seed: 1);
        foreach (var (user, item, time) in new[] { ("u3", "c", 3L), ("u2", "a", 4L), ("u4", "d", 5L), ("u1", "b", 0L), ("u2", "c", 6L) })
        {
            var (u, i, history) = catalog.Observe(new ClickEvent($"{user}:{time}", user, item, time), 5);
            if (history.Length > 0)
            {
                window.Add(new StreamExample(u, i, history, time)); // as the trainer: a first click is no example
            }
        }

        // When the catalog is capped at 2 users: u2 (last click at 6) and u4 (5) stay; u3 (3) and u1 (its last click carried time 0) go
        var remap = catalog.Evict(2)!;
        Assert.Equal([-1, 0, -1, 1], remap); // rows u1, u2, u3, u4 → kept rows in their old order
        Assert.Equal(["u2", "u4"], catalog.Users.RawIds);
        Assert.Equal(["a", "b", "c", "d"], catalog.Items.RawIds); // items keep their rows (embedding rows)
        Assert.Equal(["b", "a", "c"], catalog.SequenceOf(0).Select(e => catalog.Items.GetRaw(e.Item)));
        Assert.Equal(2, catalog.EvictedUsers);
        var built = catalog.Build("v");
        Assert.Equal("30", built.UserFields.Single(f => f.Name == "age").Vocabulary.GetRaw(built.UserFields.Single(f => f.Name == "age").Values[0])); // u2 kept its field at its new row

        // And the replay window follows: u2's and u4's examples at their new rows, the evicted users' examples gone
        var dropped = window.RemapUsers(remap);
        var left = window.TakeNew();
        Assert.Equal(1, dropped); // u1's example
        Assert.Equal([0, 0], left.Select(e => e.User)); // u2's two examples, at u2's new row
        Assert.Equal(2, window.Count);

        // And a returning evicted user starts a new row with an empty history
        var (back, _, none) = catalog.Observe(new ClickEvent("u1:7", "u1", "a", 7), 5);
        Assert.Equal(2, back);
        Assert.Empty(none);
    }

    [Fact]
    public void LiveCatalog_MillionDistinctUsers_WithACap_StaysAtTheCap_AndRegularUsersKeepTheirHistories()
    {
        // Given a stream of 1 M one-off users, with 200 regulars (every 20th click; each back about every
        // 4,000 clicks, well inside the ~21,000 clicks the 20,000 most recent users span),
        // and the trainer's cycle: evict to the cap at every update (every 50,000 events)
        const int Cap = 20_000, Regulars = 200, UpdateEvery = 50_000;
        var catalog = new LiveCatalog(new DatasetBuilder("empty").Build(), maxSequence: 20);
        var window = new ReplayWindow(recent: 20_000, reservoir: 20_000, seed: 3);
        var random = new Random(9);
        var largest = 0;
        var regularClicks = 0;
        var regularWithHistory = 0;
        var oneOff = 0;
        for (var e = 0; oneOff < 1_000_000; e++)
        {
            var regular = e % 20 == 0;
            var user = regular ? "r" + random.Next(Regulars).ToString(System.Globalization.CultureInfo.InvariantCulture) : "o" + (oneOff++).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var (u, i, history) = catalog.Observe(new ClickEvent("e" + e.ToString(System.Globalization.CultureInfo.InvariantCulture), user, "i" + random.Next(5_000).ToString(System.Globalization.CultureInfo.InvariantCulture), e), 10);
            if (regular && e > 200_000)
            {
                regularClicks++;
                regularWithHistory += history.Length > 0 ? 1 : 0;
            }

            if (history.Length > 0)
            {
                window.Add(new StreamExample(u, i, history, e));
            }

            largest = Math.Max(largest, catalog.UserCount);
            if (e % UpdateEvery == UpdateEvery - 1 && catalog.Evict(Cap) is { } remap)
            {
                window.RemapUsers(remap);
                Assert.Equal(Cap, catalog.UserCount);
            }
        }

        // Then the user table never held more than the cap plus one update's new users
        Assert.True(largest <= Cap + UpdateEvery, $"{largest} users held");
        Assert.True(catalog.EvictedUsers >= 1_000_000 - Cap - UpdateEvery, $"{catalog.EvictedUsers} evicted");

        // And regulars (active within the cap's horizon) kept their histories: their clicks train with one
        var kept = (double)regularWithHistory / regularClicks;
        output.WriteLine($"1,000,000 one-off users, cap {Cap:N0}: at most {largest:N0} held, {catalog.EvictedUsers:N0} evicted; regulars' clicks with a kept history {kept:P2} of {regularClicks:N0}");
        Assert.True(kept > 0.99, $"regulars kept a history for only {kept:P2} of their clicks");

        // And every example left in the window points at a kept user
        Assert.All(window.Sample(2_000), x => Assert.InRange(x.User, 0, catalog.UserCount - 1));
    }
}
