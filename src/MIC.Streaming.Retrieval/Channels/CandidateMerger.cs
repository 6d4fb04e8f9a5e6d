namespace MIC.Streaming.Retrieval.Channels;

/// <summary>
/// Fuses the channels' lists into one de-duplicated list. Each channel's scores are divided by that
/// list's largest absolute score (so channels with different score scales are comparable), weighted,
/// and summed per item; an item's provenance is every channel that proposed it.
/// To add a channel: 1. add a flag to <see cref="ChannelSet"/>; 2. write its Retrieve in a file named
/// after it; 3. call it in <see cref="MultiChannelRetriever"/> and give it a weight in <see cref="ChannelOptions"/>.
/// </summary>
public static class CandidateMerger
{
    public static Candidate[] Merge(IReadOnlyList<(Candidate[] List, float Weight)> lists, int k)
    {
        ArgumentNullException.ThrowIfNull(lists);
        var capacity = 0;
        foreach (var (list, _) in lists)
        {
            capacity += list.Length;
        }

        var fused = new Dictionary<int, (float Score, ChannelSet Channels)>(capacity);
        foreach (var (list, weight) in lists)
        {
            if (list.Length == 0 || weight <= 0)
            {
                continue;
            }

            var scale = list.Max(c => Math.Abs(c.Score));
            foreach (var c in list)
            {
                var normalised = scale > 0 ? c.Score / scale : 0f;
                var (score, channels) = fused.GetValueOrDefault(c.Item);
                fused[c.Item] = (score + (weight * normalised), channels | c.Channels);
            }
        }

        // Highest fused score first, ties by item id (deterministic across runs).
        var merged = new Candidate[fused.Count];
        var n = 0;
        foreach (var (item, (score, channels)) in fused)
        {
            merged[n++] = new Candidate(item, score, channels);
        }

        Array.Sort(merged, static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Item.CompareTo(b.Item));
        return merged.Length <= k ? merged : merged[..Math.Max(0, k)];
    }
}

/// <summary>Runs the requested channels for one user and merges them.</summary>
public static class MultiChannelRetriever
{
    /// <param name="timed">Called with each channel's own search time (metrics); null to skip.</param>
    public static Candidate[] Retrieve(RetrievalSpaces spaces, UserQuery query, int k, ChannelSet channels, ChannelOptions options, Action<ChannelSet, TimeSpan>? timed = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var lists = new List<(Candidate[], float)>(3);
        void Run(ChannelSet channel, float weight, Func<Candidate[]> search)
        {
            if (!channels.HasFlag(channel))
            {
                return;
            }

            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            lists.Add((search(), weight));
            timed?.Invoke(channel, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }

        Run(ChannelSet.U2I, options.WeightU2I, () => U2IChannel.Retrieve(spaces, query, k));
        Run(ChannelSet.U2U2I, options.WeightU2U2I, () => U2U2IChannel.Retrieve(spaces, query, k, options));
        Run(ChannelSet.U2I2I, options.WeightU2I2I, () => U2I2IChannel.Retrieve(spaces, query, k, options));
        return lists.Count == 1 ? lists[0].Item1 : CandidateMerger.Merge(lists, k);
    }
}
