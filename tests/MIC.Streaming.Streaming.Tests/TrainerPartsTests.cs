using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Trainer;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>The trainer's bookkeeping, without Kafka or Orleans.</summary>
public sealed class TrainerPartsTests
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
}
