using Microsoft.Extensions.Options;

namespace MIC.Streaming.Grains;

[GenerateSerializer, Alias("mic.item-state.v1")]
public sealed class ItemState
{
    [Id(0)] public string? Category { get; set; }

    [Id(1)] public long Interactions { get; set; }

    /// <summary>Distinct recent interactors, newest last.</summary>
    [Id(2)] public List<string> RecentUsers { get; set; } = [];

    [Id(3)] public Dictionary<int, long> LastOffsets { get; set; } = [];

    [Id(4)] public long LastTimestamp { get; set; }

    /// <summary>Log incarnation per partition (<see cref="ILogEpochGrain"/>); absent = 0.</summary>
    [Id(5)] public Dictionary<int, long> Epochs { get; set; } = [];
}

/// <summary>
/// An item's counters and recent interactors, for cold start (popularity) and U2U2I over live
/// users. Same write policy as <see cref="UserGrain"/>: apply in memory, persist on flush.
/// </summary>
public sealed class ItemGrain(
    [PersistentState("item", StorageNames.Items)] IPersistentState<ItemState> state,
    IOptions<SequenceOptions> options) : Grain, IItemGrain
{
    private readonly int _maxInteractors = options.Value.MaxItemInteractors;
    private readonly WriteBehindState<ItemState> _store = new(state, s => s.LastOffsets, s => s.Epochs);

    public Task<ApplyResult> ApplyAsync(ItemEventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var s = _store.State;
        var reset = _store.ObserveEpoch(batch.Partition, batch.Epoch);
        var last = _store.LastOffset(batch.Partition);
        if (last < batch.PreviousOffset)
        {
            // This activation was rebuilt from storage after acknowledged records were lost with
            // their silo: applying would leave a hole. The consumer rewinds and replays instead.
            return Task.FromResult(new ApplyResult(0, 0, Lost: true));
        }

        int applied = 0, skipped = 0;
        for (var i = 0; i < batch.Offsets.Length; i++)
        {
            if (batch.Offsets[i] <= last)
            {
                skipped++;
                continue;
            }

            var user = batch.UserIds[i];
            s.RecentUsers.Remove(user);
            s.RecentUsers.Add(user);
            s.Interactions++;
            s.LastTimestamp = Math.Max(s.LastTimestamp, batch.Timestamps[i]);
            last = batch.Offsets[i];
            applied++;
        }

        if (applied > 0)
        {
            if (s.RecentUsers.Count > _maxInteractors)
            {
                s.RecentUsers.RemoveRange(0, s.RecentUsers.Count - _maxInteractors);
            }

            s.Category = batch.Category ?? s.Category;
            s.LastOffsets[batch.Partition] = last;
            _store.MarkDirty();
        }

        return Task.FromResult(new ApplyResult(applied, skipped, EpochReset: reset));
    }

    public Task<FlushResult> FlushAsync(PartitionOffset[] expected) => _store.FlushAsync(expected);

    public Task<ItemView> GetAsync()
    {
        var s = _store.State;
        if (s.Interactions == 0)
        {
            DeactivateOnIdle(); // a read of an unknown item leaves nothing behind (random ids cost no memory)
        }

        return Task.FromResult(new ItemView(this.GetPrimaryKeyString(), s.Category, s.Interactions, [.. s.RecentUsers], s.LastTimestamp));
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) =>
        _store.DeactivateAsync(cancellationToken);
}
