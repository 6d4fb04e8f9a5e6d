using Microsoft.Extensions.Options;

namespace MIC.Streaming.Grains.Serving.Sharding;

/// <summary>Makes the <see cref="IShardSet"/> of a version (a silo's <see cref="ServingModel"/> asks per query).</summary>
public interface IShardSetFactory
{
    IShardSet Create(long version, int shards);
}

/// <summary>Shard sets over <see cref="IIndexShardGrain"/>s, with the replicas and budget of <see cref="ServingOptions"/>.</summary>
public sealed class GrainShardSetFactory(IGrainFactory grains, IOptions<ServingOptions> options, TimeProvider time) : IShardSetFactory
{
    public IShardSet Create(long version, int shards) =>
        new GrainShardSet(grains, version, shards, options.Value.ShardReplicas, options.Value.ShardBudget, time);
}

/// <summary>
/// One query's view of a version's shard grains. Both hops share one budget: a shard (with all its
/// replicas) that has not answered when the budget is spent is left out (null), never waited for —
/// a grain on a silo that was just killed would otherwise hold the query until the call times out.
/// Replicas are tried in turn starting at a rotating one, so load spreads over them; a replica that
/// fails fast (its silo is known dead) hands over at once.
/// </summary>
public sealed class GrainShardSet : IShardSet
{
    private static int s_rotation;
    private readonly IGrainFactory _grains;
    private readonly long _version;
    private readonly int _replicas;
    private readonly TimeProvider _time;
    private readonly long _deadline;

    public GrainShardSet(IGrainFactory grains, long version, int shards, int replicas, TimeSpan budget, TimeProvider time)
    {
        _grains = grains;
        _version = version;
        Count = shards;
        _replicas = replicas;
        _time = time;
        _deadline = time.GetTimestamp() + (long)(budget.TotalSeconds * time.TimestampFrequency);
    }

    public int Count { get; }

    public Task<ShardProbeReply?[]> ProbeAsync(ShardProbe probe) =>
        Task.WhenAll(Enumerable.Range(0, Count).Select(s => CallAsync(s, g => g.ProbeAsync(probe))));

    public Task<ShardScoreReply?[]> ScoreAsync(ShardScoreRequest?[] requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        return Task.WhenAll(Enumerable.Range(0, Count).Select(s => requests[s] is { } r ? CallAsync(s, g => g.ScoreAsync(r)) : Task.FromResult<ShardScoreReply?>(null)));
    }

    private async Task<T?> CallAsync<T>(int shard, Func<IIndexShardGrain, Task<T>> call)
        where T : class
    {
        var first = _replicas == 1 ? 0 : (int)((uint)Interlocked.Increment(ref s_rotation) % (uint)_replicas);
        for (var attempt = 0; attempt < _replicas; attempt++)
        {
            var remaining = Remaining();
            if (remaining <= TimeSpan.Zero)
            {
                return null;
            }

            // Each replica gets its share of what is left, the last one all of it.
            var slice = attempt == _replicas - 1 ? remaining : remaining / (_replicas - attempt);
            var grain = _grains.GetGrain<IIndexShardGrain>(IndexShardKey.Format(_version, shard, (first + attempt) % _replicas));
            try
            {
                return await call(grain).WaitAsync(slice);
            }
            catch (Exception ex) when (ex is not ArgumentException) // timed out, silo dead, shard failed to load: all mean "not now"
            {
                // Next replica, or left out.
            }
        }

        return null;
    }

    private TimeSpan Remaining() => TimeSpan.FromSeconds((double)(_deadline - _time.GetTimestamp()) / _time.TimestampFrequency);
}
