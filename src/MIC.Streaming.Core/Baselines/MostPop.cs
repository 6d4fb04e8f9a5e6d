using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Baselines;

/// <summary>Most popular items in train, the same list for everyone (ties: smaller id first).</summary>
public sealed class MostPop : IRecommender
{
    private int[] _ranked = [];
    private float[] _counts = [];

    public string Name => "MostPop";

    public void Fit(SequenceTable train, int itemCount, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        var counts = train.ItemCounts(itemCount);
        _ranked = Enumerable.Range(0, itemCount).Where(i => counts[i] > 0).OrderByDescending(i => counts[i]).ThenBy(i => i).ToArray();
        _counts = _ranked.Select(i => (float)counts[i]).ToArray();
    }

    /// <summary>The ranked popular items (the cold-start fallback other recommenders fill with).</summary>
    public ReadOnlySpan<int> Ranked => _ranked;

    public int Recommend(ReadOnlySpan<int> history, Span<int> items, Span<float> scores)
    {
        var n = Math.Min(items.Length, _ranked.Length);
        _ranked.AsSpan(0, n).CopyTo(items);
        _counts.AsSpan(0, n).CopyTo(scores);
        return n;
    }

    /// <summary>
    /// Appends popular items not yet in <paramref name="items"/>[..count] until the list is full;
    /// their scores sit below every real score so the fill never outranks a real candidate.
    /// </summary>
    public int Fill(Span<int> items, Span<float> scores, int count)
    {
        if (count >= items.Length)
        {
            return count;
        }

        var present = new HashSet<int>();
        foreach (var i in items[..count])
        {
            present.Add(i);
        }

        var floor = count > 0 ? scores[count - 1] : 0f;
        foreach (var item in _ranked)
        {
            if (count == items.Length)
            {
                break;
            }

            if (present.Contains(item))
            {
                continue;
            }

            floor = MathF.BitDecrement(floor);
            items[count] = item;
            scores[count] = floor;
            count++;
        }

        return count;
    }
}
