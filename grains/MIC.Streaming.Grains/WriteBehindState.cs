namespace MIC.Streaming.Grains;

/// <summary>
/// The write policy user and item grains share: changes stay in memory (<see cref="MarkDirty"/>)
/// until the consumer's flush, which writes them and confirms the stored state holds every offset
/// the consumer sent; an orderly deactivation writes too. See <see cref="UserGrain"/> for the rule.
/// </summary>
internal sealed class WriteBehindState<T>(IPersistentState<T> state, Func<T, Dictionary<int, long>> offsets, Func<T, Dictionary<int, long>> epochs)
{
    private bool _dirty;

    public T State => state.State;

    /// <summary>Last applied offset of a partition (−1 when none).</summary>
    public long LastOffset(int partition) => offsets(state.State).TryGetValue(partition, out var last) ? last : -1;

    public void MarkDirty() => _dirty = true;

    /// <summary>
    /// A batch from a newer incarnation of the partition's log: the stored offsets belong to the old
    /// log, so they are forgotten (event-id dedupe still guards against re-applying an event).
    /// Returns true when this reset happened.
    /// </summary>
    public bool ObserveEpoch(int partition, long epoch)
    {
        var known = epochs(state.State);
        if (epoch <= (known.TryGetValue(partition, out var stored) ? stored : 0))
        {
            return false;
        }

        known[partition] = epoch;
        offsets(state.State).Remove(partition);
        _dirty = true;
        return true;
    }

    public async Task<FlushResult> FlushAsync(PartitionOffset[] expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var wrote = false;
        if (_dirty)
        {
            await state.WriteStateAsync();
            _dirty = false;
            wrote = true;
        }

        return new FlushResult(GrainOffsets.Covers(offsets(state.State), expected), wrote);
    }

    /// <summary>Orderly deactivation (idle, shutdown, rebalancing) keeps what was applied; a crash skips this.</summary>
    public async Task DeactivateAsync(CancellationToken cancellationToken)
    {
        if (_dirty)
        {
            await state.WriteStateAsync(cancellationToken);
            _dirty = false;
        }
    }
}
