using System.Diagnostics;
using System.Reflection;
using MIC.Streaming.Grains;
using MIC.Streaming.Grains.Serving.Sharding;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>
/// The shard set's budget rule without a cluster: a shard whose grain never answers (its silo died
/// mid-call) is left out when the budget is spent, and a replica that answers takes over. In a live
/// cluster the killed silo's shards may re-activate before any query misses the budget, so the kill
/// test cannot be relied on to show a partial answer; this one always does.
/// </summary>
public class GrainShardSetTests
{
    private static readonly ShardProbe Probe = new([[1f]], [[1f]], 5, 5, 2, [], 2);

    [Fact]
    public async Task A_Shard_That_Never_Answers_Is_Left_Out_When_The_Budget_Is_Spent()
    {
        var grains = ShardGrains.Create(hanging: key => key.Shard == 1);
        var set = new GrainShardSet(grains, version: 7, shards: 3, replicas: 1, TimeSpan.FromMilliseconds(200), TimeProvider.System);

        var watch = Stopwatch.StartNew();
        var replies = await set.ProbeAsync(Probe);

        Assert.InRange(watch.ElapsedMilliseconds, 150, 10_000); // waited the budget (its timer may fire late on a busy machine), not forever
        Assert.NotNull(replies[0]);
        Assert.Null(replies[1]);
        Assert.NotNull(replies[2]);
        Assert.Equal([0], replies[0]!.Items); // each answer is its own shard's
    }

    [Fact]
    public async Task Another_Replica_Answers_For_One_That_Never_Does()
    {
        for (var query = 0; query < 4; query++) // the first replica tried rotates: hit both orders
        {
            var grains = ShardGrains.Create(hanging: key => key.Shard == 1 && key.Replica == 0);
            // A budget long enough that the hanging replica's half ending late (a busy thread pool runs
            // the timeout's continuation late) still leaves the other replica time to answer.
            var set = new GrainShardSet(grains, version: 7, shards: 3, replicas: 2, TimeSpan.FromSeconds(2), TimeProvider.System);

            var replies = await set.ProbeAsync(Probe);

            Assert.All(replies, Assert.NotNull);
            Assert.Equal([1], replies[1]!.Items);
        }
    }

    /// <summary>An <see cref="IGrainFactory"/> whose index shard grains answer at once, or never.</summary>
    public class ShardGrains : DispatchProxy
    {
        private Func<(long Version, int Shard, int Replica), bool> _hanging = _ => false;

        public static IGrainFactory Create(Func<(long Version, int Shard, int Replica), bool> hanging)
        {
            var factory = Create<IGrainFactory, ShardGrains>();
            ((ShardGrains)(object)factory)._hanging = hanging;
            return factory;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod is { Name: nameof(IGrainFactory.GetGrain), IsGenericMethod: true } && targetMethod.GetGenericArguments()[0] == typeof(IIndexShardGrain) && args?[0] is string key)
            {
                var parsed = IndexShardKey.Parse(key);
                return Shard.Create(parsed.Shard, _hanging(parsed));
            }

            throw new NotSupportedException(targetMethod?.Name);
        }
    }

    /// <summary>A shard grain: its probe returns the shard's number as its only item, or never completes.</summary>
    public class Shard : DispatchProxy
    {
        private int _shard;
        private bool _hangs;

        public static IIndexShardGrain Create(int shard, bool hangs)
        {
            var grain = Create<IIndexShardGrain, Shard>();
            var proxy = (Shard)(object)grain;
            (proxy._shard, proxy._hangs) = (shard, hangs);
            return grain;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            nameof(IIndexShardGrain.ProbeAsync) => _hangs
                ? new TaskCompletionSource<ShardProbeReply>().Task
                : Task.FromResult(new ShardProbeReply([_shard], [1f], [], [])),
            _ => throw new NotSupportedException(targetMethod?.Name),
        };
    }
}
