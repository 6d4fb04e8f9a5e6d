using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace MIC.Streaming.Grains.Serving.Sharding;

/// <summary>
/// Places index shard grains so that they spread by construction, not by luck: replica r of shard s
/// goes to the ((s + r) mod n)-th of the n compatible (serving) silos, ordered by address. With
/// S ≥ n shards every silo gets ⌊S/n⌋ or ⌈S/n⌉ of them, and the replicas of one shard land on
/// different silos while r &lt; n. When a silo dies its shards re-activate on the survivors by the
/// same rule over the smaller list; each new version is placed over the silos present then.
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class ShardSpreadPlacement : PlacementStrategy
{
    internal static readonly ShardSpreadPlacement Singleton = new();
}

/// <summary>Marks a grain class for <see cref="ShardSpreadPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ShardSpreadPlacementAttribute() : PlacementAttribute(ShardSpreadPlacement.Singleton);

/// <summary>The director of <see cref="ShardSpreadPlacement"/>.</summary>
public sealed class ShardSpreadPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var silos = context.GetCompatibleSilos(target);
        if (silos.Length == 0)
        {
            throw new OrleansException($"No serving silo can host {target.GrainIdentity}.");
        }

        var (_, shard, replica) = IndexShardKey.Parse(target.GrainIdentity.Key.ToString()!);
        return Task.FromResult(Pick(silos, shard, replica));
    }

    /// <summary>The rule itself: the ((shard + replica) mod n)-th silo by address.</summary>
    public static SiloAddress Pick(IReadOnlyList<SiloAddress> silos, int shard, int replica)
    {
        ArgumentNullException.ThrowIfNull(silos);
        var ordered = silos.OrderBy(s => s.ToParsableString(), StringComparer.Ordinal).ToArray();
        return ordered[(shard + replica) % ordered.Length];
    }
}
