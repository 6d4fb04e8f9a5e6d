using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;

namespace MIC.Streaming.Grains;

/// <summary>Persisted state of a user grain.</summary>
[GenerateSerializer, Alias("mic.user-state.v1")]
public sealed class UserState
{
    /// <summary>Newest last, at most <see cref="SequenceOptions.MaxUserSequence"/>.</summary>
    [Id(0)] public List<Interaction> Recent { get; set; } = [];

    /// <summary>Last applied Kafka offset per partition: records at or below are replays and are skipped.</summary>
    [Id(1)] public Dictionary<int, long> LastOffsets { get; set; } = [];

    [Id(2)] public Dictionary<string, string> Fields { get; set; } = [];

    [Id(3)] public long TotalEvents { get; set; }

    /// <summary>Log incarnation per partition (<see cref="ILogEpochGrain"/>); absent = 0.</summary>
    [Id(4)] public Dictionary<int, long> Epochs { get; set; } = [];
}

/// <summary>
/// A user's rolling sequence. Write policy, chosen together with the consumer's commit rule:
/// <list type="number">
/// <item><see cref="ApplyAsync"/> updates memory and marks the grain dirty (no storage write per event);</item>
/// <item><see cref="FlushAsync"/> writes the state if dirty, then confirms it holds every offset the
/// consumer sent; the consumer commits an offset only after all grains it touched flushed;</item>
/// <item>if this activation dies before a flush, the records are not committed, Kafka redelivers
/// them, the new activation (loaded from storage) applies exactly the ones it lacks, and the
/// consumer's flush check sees the gap and rewinds, so nothing committed is ever lost and
/// nothing is applied twice (offset skip).</item>
/// </list>
/// </summary>
public sealed class UserGrain(
    [PersistentState(UserGrain.StateName, StorageNames.Users)] IPersistentState<UserState> state,
    IOptions<SequenceOptions> options) : Grain, IUserGrain
{
    /// <summary>The persistent state's name in grain storage.</summary>
    public const string StateName = "user";

    private readonly int _maxSequence = options.Value.MaxUserSequence;
    private readonly int _maxFields = options.Value.MaxUserFields;
    private readonly WriteBehindState<UserState> _store = new(state, s => s.LastOffsets, s => s.Epochs);

    /// <summary>
    /// Hash codes of the kept events' ids, parallel to <see cref="UserState.Recent"/> (not persisted:
    /// built from the state on first use). The producer-retry check scans these ints instead of
    /// following every kept interaction to its id string.
    /// </summary>
    private List<int>? _eventIdHashes;

    public Task<ApplyResult> ApplyAsync(UserEventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var s = _store.State;
        var reset = _store.ObserveEpoch(batch.Partition, batch.Epoch);
        var before = _store.LastOffset(batch.Partition);
        var last = before;
        if (last < batch.PreviousOffset)
        {
            // This activation was rebuilt from storage after acknowledged records were lost with
            // their silo: applying would leave a hole. The consumer rewinds and replays instead.
            return Task.FromResult(new ApplyResult(0, 0, Lost: true));
        }

        var hashes = _eventIdHashes ??= [.. s.Recent.Select(r => r.EventId.GetHashCode(StringComparison.Ordinal))];
        int applied = 0, skipped = 0, unknown = 0, dropped = 0;
        for (var i = 0; i < batch.Events.Length; i++)
        {
            var eventId = batch.Events[i].EventId;
            var hash = eventId.GetHashCode(StringComparison.Ordinal);
            if (batch.Offsets[i] <= last)
            {
                skipped++; // a replay of a record this grain already applied
                if (!ContainsEvent(s.Recent, hashes, eventId, hash))
                {
                    unknown++; // ... or not: an id this grain does not hold (see ApplyResult.UnknownSkipped)
                }

                continue;
            }

            last = batch.Offsets[i];
            if (ContainsEvent(s.Recent, hashes, eventId, hash))
            {
                skipped++; // the producer's retry: same event id at a new offset
                continue;
            }

            s.Recent.Add(batch.Events[i]);
            hashes.Add(hash);
            applied++;
        }

        if (last != before)
        {
            s.LastOffsets[batch.Partition] = last;
            _store.MarkDirty();
        }

        if (applied > 0)
        {
            if (s.Recent.Count > _maxSequence)
            {
                var excess = s.Recent.Count - _maxSequence;
                s.Recent.RemoveRange(0, excess);
                hashes.RemoveRange(0, excess);
            }

            s.TotalEvents += applied;
            if (batch.Fields is { Count: > 0 })
            {
                foreach (var (key, value) in batch.Fields)
                {
                    if (s.Fields.Count < _maxFields || s.Fields.ContainsKey(key))
                    {
                        s.Fields[key] = value;
                    }
                    else
                    {
                        dropped++;
                    }
                }
            }

            _store.MarkDirty();
        }

        return Task.FromResult(new ApplyResult(applied, skipped, UnknownSkipped: unknown, EpochReset: reset, FieldsDropped: dropped));
    }

    public Task<FlushResult> FlushAsync(PartitionOffset[] expected) => _store.FlushAsync(expected);

    /// <summary>Event-id dedupe over the kept window: a vectorised scan of the id hashes, newest first, and an id comparison on each hash match.</summary>
    private static bool ContainsEvent(List<Interaction> recent, List<int> hashes, string eventId, int hash)
    {
        ReadOnlySpan<int> span = CollectionsMarshal.AsSpan(hashes);
        for (var i = span.LastIndexOf(hash); i >= 0; i = span[..i].LastIndexOf(hash))
        {
            if (string.Equals(recent[i].EventId, eventId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    public Task<UserView> GetAsync()
    {
        var s = _store.State;
        ForgetIfUnknown();
        return Task.FromResult(new UserView(
            this.GetPrimaryKeyString(),
            [.. s.Recent],
            new Dictionary<string, string>(s.Fields),
            s.TotalEvents,
            GrainOffsets.ToArray(s.LastOffsets)));
    }

    public Task<RecentItems> GetRecentItemsAsync(int max)
    {
        ForgetIfUnknown();
        return Task.FromResult(Recent(_store.State, max));
    }

    /// <summary>
    /// A read of a user with no events (a random or mistyped id) must not leave an activation behind:
    /// 20,000 random ids had kept 20,000 activations (+51 MiB) until the idle collector ran.
    /// </summary>
    private void ForgetIfUnknown()
    {
        if (_store.State.TotalEvents == 0)
        {
            DeactivateOnIdle();
        }
    }

    /// <summary>The user tower's input from a state (live, or read from storage by <see cref="RetrievalGrain"/>).</summary>
    internal static RecentItems Recent(UserState state, int max)
    {
        var recent = state.Recent;
        var n = Math.Clamp(max, 0, recent.Count);
        var items = new string[n];
        for (var i = 0; i < n; i++)
        {
            items[i] = recent[recent.Count - n + i].ItemId;
        }

        var fields = state.Fields.Count > 0 ? new Dictionary<string, string>(state.Fields) : null;
        return new RecentItems(items, recent.Count > 0 ? recent[^1].EventId : null, fields);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) =>
        _store.DeactivateAsync(cancellationToken);
}

internal static class GrainOffsets
{
    public static bool Covers(Dictionary<int, long> applied, PartitionOffset[] expected)
    {
        foreach (var e in expected)
        {
            if (!applied.TryGetValue(e.Partition, out var last) || last < e.Offset)
            {
                return false;
            }
        }

        return true;
    }

    public static PartitionOffset[] ToArray(Dictionary<int, long> offsets) =>
        [.. offsets.OrderBy(p => p.Key).Select(p => new PartitionOffset(p.Key, p.Value))];
}
