namespace MIC.Streaming.Grains;

/// <summary>
/// The write policy user and item grains share: changes stay in memory (<see cref="MarkDirty"/>)
/// until the consumer's flush, which writes them and confirms the stored state holds every offset
/// the consumer sent; an orderly deactivation writes too. See <see cref="UserGrain"/> for the rule.
/// </summary>
internal sealed class WriteBehindState<T>(IPersistentState<T> state, Func<T, Dictionary<int, long>> offsets)
{
    private bool _dirty;

    public T State => state.State;

    /// <summary>Last applied offset of a partition (−1 when none).</summary>
    public long LastOffset(int partition) => offsets(state.State).TryGetValue(partition, out var last) ? last : -1;

    public void MarkDirty() => _dirty = true;

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
