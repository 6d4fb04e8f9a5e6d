using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Retrieval.Channels;
using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Grains.Serving.Sharding;

/// <summary>
/// One shard of a version's retrieval spaces, the state of an <see cref="IIndexShardGrain"/>. Items
/// are dealt round-robin (global row r lives on shard r mod S, at local row r / S), users likewise by
/// dense id. The shard answers the two hops of a sharded query (<see cref="ShardedRetriever"/>)
/// with the same arithmetic as the replicated channels, so merged answers equal replicated ones on
/// exact indexes. Immutable after construction and safe for concurrent queries.
/// </summary>
public sealed class SpaceShard : IDisposable
{
    public SpaceShard(
        long version,
        int shard,
        int shards,
        EmbeddingMatrix itemRelevance,
        IVectorIndex itemIndex,
        ItemNeighbourTable neighbours,
        long[] userIds,
        IVectorIndex userIndex,
        SequenceTable userHistories,
        long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, shards);
        Version = version;
        Shard = shard;
        Shards = shards;
        ItemRelevance = itemRelevance;
        ItemIndex = itemIndex;
        Neighbours = neighbours;
        UserIds = userIds;
        UserIndex = userIndex;
        UserHistories = userHistories;
        Bytes = bytes;
    }

    public long Version { get; }

    public int Shard { get; }

    public int Shards { get; }

    /// <summary>Unit relevance vectors of this shard's items, local row i = global row Shard + i·Shards.</summary>
    public EmbeddingMatrix ItemRelevance { get; }

    /// <summary>Searches <see cref="ItemRelevance"/>; ids are global item rows.</summary>
    public IVectorIndex ItemIndex { get; }

    /// <summary>Each local item's nearest items in the item space (global rows), computed over all items.</summary>
    public ItemNeighbourTable Neighbours { get; }

    /// <summary>Dense ids of this shard's indexed users (ascending); local row i ↔ <see cref="UserIds"/>[i].</summary>
    public long[] UserIds { get; }

    public IVectorIndex UserIndex { get; }

    /// <summary>Local user row → that user's history (global item rows, oldest first).</summary>
    public SequenceTable UserHistories { get; }

    /// <summary>Bytes of the shard's files, all of which it holds in memory (vectors, tables, histories, index codes).</summary>
    public long Bytes { get; }

    public int Items => ItemRelevance.Rows;

    public static int LocalRow(int globalRow, int shards) => globalRow / shards;

    public static int GlobalRow(int localRow, int shard, int shards) => shard + (localRow * shards);

    public bool Owns(int item) => item >= 0 && item % Shards == Shard && item / Shards < ItemRelevance.Rows;

    /// <summary>The first hop: U2I top-k, similar users with their recent items, neighbour rows of owned history items.</summary>
    public ShardProbeReply Probe(ShardProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var (items, scores) = probe.ItemK > 0 ? TopItems(probe.RelevanceInterests, probe.ItemK) : ([], []);
        var users = probe.UserK > 0 ? SimilarUsers(probe.OwnInterests, probe.UserK, probe.ItemsPerUser) : [];
        var rows = new List<NeighbourRow>();
        foreach (var h in probe.HistoryItems)
        {
            if (!Owns(h))
            {
                continue;
            }

            var start = LocalRow(h, Shards) * Neighbours.Width;
            var n = 0;
            while (n < Math.Min(probe.NeighboursPerItem, Neighbours.Width) && Neighbours.Ids[start + n] >= 0)
            {
                n++;
            }

            rows.Add(new NeighbourRow(h, Neighbours.Ids[start..(start + n)], Neighbours.Similarities[start..(start + n)]));
        }

        return new ShardProbeReply(items, scores, users, [.. rows]);
    }

    /// <summary>The second hop: vote × relevance of the owned voted items, top k per channel.</summary>
    public ShardScoreReply Score(ShardScoreRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (a, sa) = TopByVoteTimesRelevance(request.U2U2IItems, request.U2U2IVotes, request.RelevanceInterests, request.K);
        var (b, sb) = TopByVoteTimesRelevance(request.U2I2IItems, request.U2I2IVotes, request.RelevanceInterests, request.K);
        return new ShardScoreReply(a, sa, b, sb);
    }

    public ShardInfo Info(string silo) => new(Version, Shard, Shards, Items, UserIds.Length, Bytes, silo);

    public void Dispose()
    {
        ItemIndex.Dispose();
        UserIndex.Dispose();
    }

    /// <summary>Each interest's top k, an item keeping its best score (as <see cref="U2IChannel"/>), top k of those.</summary>
    private (int[] Items, float[] Scores) TopItems(float[][] interests, int k)
    {
        var best = new Dictionary<int, float>();
        var hits = new SearchHit[k];
        foreach (var q in interests)
        {
            var n = ItemIndex.Search(q, k, hits);
            for (var i = 0; i < n; i++)
            {
                var item = (int)hits[i].Id;
                if (!best.TryGetValue(item, out var s) || hits[i].Score > s)
                {
                    best[item] = hits[i].Score;
                }
            }
        }

        var top = ChannelMath.Top(best, k, ChannelSet.U2I);
        return ([.. top.Select(c => c.Item)], [.. top.Select(c => c.Score)]);
    }

    private SimilarUser[] SimilarUsers(float[][] interests, int k, int itemsPerUser)
    {
        var result = new List<SimilarUser>();
        var hits = new SearchHit[k];
        for (var q = 0; q < interests.Length; q++)
        {
            var n = UserIndex.Search(interests[q], k, hits);
            for (var i = 0; i < n; i++)
            {
                var row = Array.BinarySearch(UserIds, hits[i].Id);
                var history = row >= 0 ? UserHistories.Sequence(row) : [];
                result.Add(new SimilarUser(q, hits[i].Id, hits[i].Score, history[Math.Max(0, history.Length - itemsPerUser)..].ToArray()));
            }
        }

        return [.. result];
    }

    private (int[] Items, float[] Scores) TopByVoteTimesRelevance(int[] items, float[] votes, float[][] interests, int k)
    {
        if (items.Length == 0 || k <= 0)
        {
            return ([], []);
        }

        var top = new TopKSelector(Math.Min(k, items.Length));
        for (var i = 0; i < items.Length; i++)
        {
            if (Owns(items[i]))
            {
                top.Add(items[i], votes[i] * ChannelMath.Relevance(interests, ItemRelevance.Row(LocalRow(items[i], Shards))));
            }
        }

        return Drain(top);
    }

    private static (int[] Items, float[] Scores) Drain(TopKSelector top)
    {
        var ids = new int[top.Count];
        var values = new float[top.Count];
        var n = top.Drain(ids, values);
        return (ids[..n], values[..n]);
    }
}
