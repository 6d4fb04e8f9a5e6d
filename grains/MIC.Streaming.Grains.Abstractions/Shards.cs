namespace MIC.Streaming.Grains;

/// <summary>
/// One shard of one model version's indexes (key <c>"{version}/{shard}/{replica}"</c>, see
/// <see cref="IndexShardKey"/>), in <c>Serving:Mode</c> = <c>Sharded</c>. Shard s holds the items
/// whose row r has r mod S = s (their relevance vectors, index and item→item neighbour rows) and the
/// users whose dense id u has u mod S = s (their own-space vectors, index and recent histories). The
/// version is part of the key, so every shard a query reaches answers from the version the query's
/// user tower came from: a swap can never mix versions inside one answer.
/// </summary>
[Alias("mic.IIndexShardGrain")]
public interface IIndexShardGrain : IGrainWithStringKey
{
    /// <summary>Loads the shard (if not loaded) and returns its size; the front calls it before it swaps to a version.</summary>
    [Alias("Warm")]
    Task<ShardInfo> WarmAsync();

    /// <summary>First hop: U2I hits, similar users with their recent items, and the neighbour rows of the history items this shard owns.</summary>
    [Alias("Probe")]
    Task<ShardProbeReply> ProbeAsync(ShardProbe probe);

    /// <summary>Second hop: vote × relevance for the voted items this shard owns, top k per channel.</summary>
    [Alias("Score")]
    Task<ShardScoreReply> ScoreAsync(ShardScoreRequest request);
}

/// <summary>The key of <see cref="IIndexShardGrain"/>: version, shard number, replica number.</summary>
public static class IndexShardKey
{
    public static string Format(long version, int shard, int replica) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{version}/{shard}/{replica}");

    public static (long Version, int Shard, int Replica) Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var parts = key.Split('/');
        if (parts.Length != 3
            || !long.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version)
            || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var shard)
            || !int.TryParse(parts[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var replica))
        {
            throw new ArgumentException($"'{key}' is not an index shard key (version/shard/replica).", nameof(key));
        }

        return (version, shard, replica);
    }
}

/// <summary>What a loaded shard holds, and where.</summary>
[GenerateSerializer, Immutable, Alias("mic.shard-info.v1")]
public sealed record ShardInfo(
    [property: Id(0)] long Version,
    [property: Id(1)] int Shard,
    [property: Id(2)] int Shards,
    [property: Id(3)] int Items,
    [property: Id(4)] int Users,
    [property: Id(5)] long Bytes,
    [property: Id(6)] string Silo);

/// <summary>
/// The first hop of a sharded query. Vectors are unit-normalised by the front. Each part runs only
/// when its channel is asked for (<see cref="ItemK"/> &gt; 0, <see cref="UserK"/> &gt; 0, history items present).
/// </summary>
[GenerateSerializer, Immutable, Alias("mic.shard-probe.v1")]
public sealed record ShardProbe(
    [property: Id(0)] float[][] RelevanceInterests,
    [property: Id(1)] float[][] OwnInterests,
    [property: Id(2)] int ItemK,
    [property: Id(3)] int UserK,
    [property: Id(4)] int ItemsPerUser,
    [property: Id(5)] int[] HistoryItems,
    [property: Id(6)] int NeighboursPerItem);

/// <summary>A similar user found by one own-space interest, with its most recent distinct items (oldest first).</summary>
[GenerateSerializer, Immutable, Alias("mic.similar-user.v1")]
public sealed record SimilarUser(
    [property: Id(0)] int Interest,
    [property: Id(1)] long User,
    [property: Id(2)] float Score,
    [property: Id(3)] int[] Items);

/// <summary>A history item's precomputed nearest items in the item space (best first).</summary>
[GenerateSerializer, Immutable, Alias("mic.neighbour-row.v1")]
public sealed record NeighbourRow(
    [property: Id(0)] int Item,
    [property: Id(1)] int[] Neighbours,
    [property: Id(2)] float[] Similarities);

[GenerateSerializer, Immutable, Alias("mic.shard-probe-reply.v1")]
public sealed record ShardProbeReply(
    [property: Id(0)] int[] Items,
    [property: Id(1)] float[] ItemScores,
    [property: Id(2)] SimilarUser[] Users,
    [property: Id(3)] NeighbourRow[] Neighbours);

/// <summary>The second hop: the voted items this shard owns, per two-hop channel, and the user's relevance interests.</summary>
[GenerateSerializer, Immutable, Alias("mic.shard-score-request.v1")]
public sealed record ShardScoreRequest(
    [property: Id(0)] float[][] RelevanceInterests,
    [property: Id(1)] int K,
    [property: Id(2)] int[] U2U2IItems,
    [property: Id(3)] float[] U2U2IVotes,
    [property: Id(4)] int[] U2I2IItems,
    [property: Id(5)] float[] U2I2IVotes);

/// <summary>Top k (item, vote × relevance) per two-hop channel among this shard's items, best first.</summary>
[GenerateSerializer, Immutable, Alias("mic.shard-score-reply.v1")]
public sealed record ShardScoreReply(
    [property: Id(0)] int[] U2U2IItems,
    [property: Id(1)] float[] U2U2IScores,
    [property: Id(2)] int[] U2I2IItems,
    [property: Id(3)] float[] U2I2IScores);
