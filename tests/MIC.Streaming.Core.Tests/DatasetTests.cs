using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Import;

namespace MIC.Streaming.Core.Tests;

public class DatasetTests
{
    private static InteractionDataset Build(params (string U, string I, long T)[] rows)
    {
        var b = new DatasetBuilder("t");
        foreach (var (u, i, t) in rows)
        {
            b.Add(new RawInteraction(u, i, t));
        }

        return b.Build();
    }

    [Fact]
    public void Build_EqualTimestamps_KeepFileOrder()
    {
        var d = Build(("u", "a", 5), ("u", "b", 5), ("u", "c", 1));

        Assert.Equal(["c", "a", "b"], d.Sequences.Sequence(0).ToArray().Select(d.Items.GetRaw));
    }

    [Fact]
    public void KCore_RemovesIterativelyUntilStable()
    {
        // With k = 2: item z has one user → removed; then user u3 has one item → removed; then item y drops to one user.
        var d = Build(("u1", "x", 1), ("u1", "y", 2), ("u2", "x", 1), ("u2", "w", 2), ("u3", "y", 1), ("u3", "z", 2), ("u4", "w", 1), ("u4", "x", 2));

        var k = KCoreFilter.Apply(d, 2);

        Assert.False(k.Items.TryGetIndex("z", out _));
        Assert.False(k.Users.TryGetIndex("u3", out _));
        Assert.False(k.Items.TryGetIndex("y", out _));
        Assert.False(k.Users.TryGetIndex("u1", out _));
        for (var u = 0; u < k.UserCount; u++)
        {
            Assert.True(k.Sequences.Length(u) >= 2);
        }

        Assert.All(k.Sequences.ItemCounts(k.ItemCount), c => Assert.True(c >= 2));
    }

    [Fact]
    public void Snapshot_RoundTrip_PreservesEverything()
    {
        using var dir = new TempDir();
        var original = new Synthetic.SyntheticDataGenerator(new Synthetic.SyntheticOptions { Users = 50, Items = 40, Categories = 4 }).BuildDataset();
        var path = System.IO.Path.Combine(dir.Path, "d.micds");

        DatasetSnapshot.Save(original, path);
        var loaded = DatasetImporters.Load(path, "micds", new ImportOptions()).Dataset;

        Assert.Equal(original.Sequences.Items, loaded.Sequences.Items);
        Assert.Equal(original.Sequences.Timestamps, loaded.Sequences.Timestamps);
        Assert.Equal(original.Users.RawIds, loaded.Users.RawIds);
        Assert.Equal(original.ItemCategory, loaded.ItemCategory);
        Assert.Equal(original.ItemAttributes, loaded.ItemAttributes);
        Assert.Equal(original.UserFields[0].Values, loaded.UserFields[0].Values);
    }

    [Fact]
    public void Snapshot_TruncatedFile_ClearError()
    {
        using var dir = new TempDir();
        var path = System.IO.Path.Combine(dir.Path, "d.micds");
        DatasetSnapshot.Save(Build(("u", "a", 1), ("u", "b", 2)), path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 9)]);

        var e = Assert.Throws<InvalidDataException>(() => DatasetSnapshot.Load(path));

        Assert.Contains("d.micds", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Memory_TenMillionInteractionShape_StaysCompact()
    {
        // 13 bytes per interaction in the arrays (int item + long time + behaviour byte).
        var d = new Synthetic.SyntheticDataGenerator(new Synthetic.SyntheticOptions { Users = 2000, Items = 500, Categories = 10 }).BuildDataset();

        var perInteraction = (double)d.ArrayBytes() / d.InteractionCount;

        Assert.InRange(perInteraction, 13, 15);
    }

    [Fact]
    public void Schema_ListsUserAndItemFields()
    {
        var d = new Synthetic.SyntheticDataGenerator(new Synthetic.SyntheticOptions { Users = 20, Items = 30, Categories = 3 }).BuildDataset();

        var schema = d.Schema;

        Assert.Equal(["user_id", "segment"], schema.UserFields.Select(f => f.Name));
        Assert.Equal(["item_id", "category", "attributes"], schema.ItemFields.Select(f => f.Name));
        Assert.Equal(FieldArity.MultiValued, schema.ItemFields[2].Arity);
    }

    [Fact]
    public void ActiveWithin_EmptiesUsersWhoseNewestClickIsOlderThanTheWindow()
    {
        // user 0 last clicked at 100, user 1 at 950, user 2 never, user 3 at 1000 (the newest).
        var table = new SequenceTable([0, 2, 4, 4, 5], [1, 2, 3, 4, 5], [10, 100, 900, 950, 1000]);

        var active = table.ActiveWithin(100);

        Assert.Equal(4, active.UserCount);
        Assert.Equal(0, active.Length(0));
        Assert.Equal([3, 4], active.Sequence(1).ToArray());
        Assert.Equal(0, active.Length(2));
        Assert.Equal([5], active.Sequence(3).ToArray());
        Assert.Same(table, table.ActiveWithin(0));
        Assert.Equal(5, table.ActiveWithin(10_000).InteractionCount);
    }
}
