namespace MIC.Streaming.Core.Data;

/// <summary>
/// Chronological per-user sequences in CSR form: user u's items are
/// <c>Items[Offsets[u]..Offsets[u+1]]</c>, oldest first. 12 bytes per interaction
/// (int item + long timestamp) plus 4 bytes per user.
/// </summary>
public sealed class SequenceTable
{
    public SequenceTable(int[] offsets, int[] items, long[] timestamps)
    {
        ArgumentNullException.ThrowIfNull(offsets);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(timestamps);
        if (offsets.Length == 0 || offsets[0] != 0 || offsets[^1] != items.Length || items.Length != timestamps.Length)
        {
            throw new ArgumentException("Offsets must start at 0 and end at the item count; items and timestamps must have equal length.");
        }

        Offsets = offsets;
        Items = items;
        Timestamps = timestamps;
    }

    public int[] Offsets { get; }

    public int[] Items { get; }

    public long[] Timestamps { get; }

    public int UserCount => Offsets.Length - 1;

    public int InteractionCount => Items.Length;

    public ReadOnlySpan<int> Sequence(int user) => Items.AsSpan(Offsets[user], Offsets[user + 1] - Offsets[user]);

    public ReadOnlySpan<long> SequenceTimes(int user) => Timestamps.AsSpan(Offsets[user], Offsets[user + 1] - Offsets[user]);

    public int Length(int user) => Offsets[user + 1] - Offsets[user];

    /// <summary>
    /// Keeps, for every user, the first <c>lengths[u]</c> interactions (0 drops the user's data).
    /// User indices are unchanged, so the result lives in the same id space.
    /// </summary>
    public SequenceTable Prefixes(ReadOnlySpan<int> lengths)
    {
        if (lengths.Length != UserCount)
        {
            throw new ArgumentException("One length per user is required.", nameof(lengths));
        }

        var offsets = new int[UserCount + 1];
        for (var u = 0; u < UserCount; u++)
        {
            var len = Math.Clamp(lengths[u], 0, Length(u));
            offsets[u + 1] = offsets[u] + len;
        }

        var items = new int[offsets[^1]];
        var times = new long[offsets[^1]];
        for (var u = 0; u < UserCount; u++)
        {
            var len = offsets[u + 1] - offsets[u];
            Items.AsSpan(Offsets[u], len).CopyTo(items.AsSpan(offsets[u]));
            Timestamps.AsSpan(Offsets[u], len).CopyTo(times.AsSpan(offsets[u]));
        }

        return new SequenceTable(offsets, items, times);
    }

    /// <summary>
    /// Users active within <paramref name="window"/> time units of the newest interaction keep their
    /// sequence; the others get an empty one (same id space). An empty table, or a window ≤ 0, is
    /// returned as is. Sequences are in time order, so a user's last timestamp is its newest.
    /// </summary>
    public SequenceTable ActiveWithin(long window)
    {
        if (window <= 0 || InteractionCount == 0)
        {
            return this;
        }

        var newest = long.MinValue;
        for (var u = 0; u < UserCount; u++)
        {
            if (Length(u) > 0)
            {
                newest = Math.Max(newest, Timestamps[Offsets[u + 1] - 1]);
            }
        }

        var since = newest - window;
        var lengths = new int[UserCount];
        for (var u = 0; u < UserCount; u++)
        {
            lengths[u] = Length(u) > 0 && Timestamps[Offsets[u + 1] - 1] >= since ? Length(u) : 0;
        }

        return Prefixes(lengths);
    }

    /// <summary>How many times each item occurs, over all users.</summary>
    public int[] ItemCounts(int itemCount)
    {
        var counts = new int[itemCount];
        foreach (var item in Items)
        {
            counts[item]++;
        }

        return counts;
    }
}
