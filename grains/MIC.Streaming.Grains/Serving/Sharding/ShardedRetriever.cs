using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Retrieval.Channels;

namespace MIC.Streaming.Grains.Serving.Sharding;

/// <summary>
/// The shards of one version as the front sees them. A missing answer (a shard whose silo died, or
/// that did not answer within the query's budget) is null.
/// </summary>
public interface IShardSet
{
    int Count { get; }

    Task<ShardProbeReply?[]> ProbeAsync(ShardProbe probe);

    /// <summary>Sends <paramref name="requests"/>[s] to shard s (null: nothing to ask it).</summary>
    Task<ShardScoreReply?[]> ScoreAsync(ShardScoreRequest?[] requests);
}

/// <summary>
/// The three MIC channels over sharded indexes, in two hops. Hop 1 asks every shard for its U2I
/// top-k, its most similar users (with their recent items) and the neighbour rows of the history
/// items it owns; the front merges them and sums the votes exactly as <see cref="U2U2IChannel"/> and
/// <see cref="U2I2IChannel"/> do. Hop 2 sends each shard the voted items it owns, which it ranks by
/// vote × relevance; the front merges the per-shard top-k and fuses the channels with
/// <see cref="CandidateMerger"/>. Per-shard top-k lists merged are the global top-k, so on exact
/// indexes the answer equals the replicated one.
/// </summary>
public static class ShardedRetriever
{
    public sealed record Result(Candidate[] Items, bool Partial, TimeSpan Probe, TimeSpan Score);

    public static async Task<Result> RetrieveAsync(IShardSet shards, UserQuery query, int k, ChannelSet channels, ChannelOptions options, int itemCount)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(options);
        var relevance = ChannelMath.Normalise(query.RelevanceInterests);
        var own = ChannelMath.Normalise(query.OwnInterests);
        var history = query.History;
        var recent = channels.HasFlag(ChannelSet.U2I2I)
            ? history.Skip(Math.Max(0, history.Length - options.RecentHistoryItems)).Distinct().Where(h => (uint)h < (uint)itemCount).ToArray()
            : [];
        var probe = new ShardProbe(
            relevance,
            own,
            channels.HasFlag(ChannelSet.U2I) ? k : 0,
            channels.HasFlag(ChannelSet.U2U2I) ? options.SimilarUsers + 1 : 0,
            options.ItemsPerSimilarUser,
            recent,
            options.SimilarItemsPerHistoryItem);

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var replies = await shards.ProbeAsync(probe);
        var probed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        var partial = replies.Any(r => r is null);
        var answered = replies.OfType<ShardProbeReply>().ToArray();

        var u2i = channels.HasFlag(ChannelSet.U2I) ? MergeU2I(answered, k) : [];
        var userVotes = channels.HasFlag(ChannelSet.U2U2I) ? UserVotes(answered, own.Length, probe.UserK, query.UserIndex, options) : [];
        var itemVotes = channels.HasFlag(ChannelSet.U2I2I) ? ItemVotes(answered, recent) : [];

        started = System.Diagnostics.Stopwatch.GetTimestamp();
        Candidate[] u2u2i = [];
        Candidate[] u2i2i = [];
        if (userVotes.Count > 0 || itemVotes.Count > 0)
        {
            var requests = new ShardScoreRequest?[shards.Count];
            for (var s = 0; s < shards.Count; s++)
            {
                var (ua, uv) = Owned(userVotes, s, shards.Count);
                var (ia, iv) = Owned(itemVotes, s, shards.Count);
                requests[s] = ua.Length + ia.Length == 0 ? null : new ShardScoreRequest(relevance, k, ua, uv, ia, iv);
            }

            var scored = await shards.ScoreAsync(requests);
            for (var s = 0; s < scored.Length; s++)
            {
                partial |= requests[s] is not null && scored[s] is null;
            }

            u2u2i = MergeTop(scored.OfType<ShardScoreReply>().Select(r => (r.U2U2IItems, r.U2U2IScores)), k, ChannelSet.U2U2I);
            u2i2i = MergeTop(scored.OfType<ShardScoreReply>().Select(r => (r.U2I2IItems, r.U2I2IScores)), k, ChannelSet.U2I2I);
        }

        var scoredTime = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        var lists = new List<(Candidate[], float)>(3);
        if (channels.HasFlag(ChannelSet.U2I))
        {
            lists.Add((u2i, options.WeightU2I));
        }

        if (channels.HasFlag(ChannelSet.U2U2I))
        {
            lists.Add((u2u2i, options.WeightU2U2I));
        }

        if (channels.HasFlag(ChannelSet.U2I2I))
        {
            lists.Add((u2i2i, options.WeightU2I2I));
        }

        var merged = lists.Count switch
        {
            0 => [],
            1 => lists[0].Item1,
            _ => CandidateMerger.Merge(lists, k),
        };
        return new Result(merged, partial, probed, scoredTime);
    }

    private static Candidate[] MergeU2I(ShardProbeReply[] replies, int k) =>
        MergeTop(replies.Select(r => (r.Items, r.ItemScores)), k, ChannelSet.U2I);

    /// <summary>Per interest: the global top UserK similar users (score, then id), skipping the user itself and non-positive scores.</summary>
    private static Dictionary<int, float> UserVotes(ShardProbeReply[] replies, int interests, int userK, int? self, ChannelOptions options)
    {
        var votes = new Dictionary<int, float>();
        var seen = new HashSet<int>();
        for (var q = 0; q < interests; q++)
        {
            var interest = q;
            var ranked = replies.SelectMany(r => r.Users).Where(u => u.Interest == interest)
                .OrderByDescending(u => u.Score).ThenBy(u => u.User).Take(userK);
            var used = 0;
            foreach (var user in ranked)
            {
                if (used == options.SimilarUsers)
                {
                    break;
                }

                if (user.User == self || user.Score <= 0)
                {
                    continue;
                }

                used++;
                seen.Clear();
                foreach (var item in user.Items)
                {
                    if (seen.Add(item))
                    {
                        votes[item] = votes.GetValueOrDefault(item) + user.Score;
                    }
                }
            }
        }

        return votes;
    }

    /// <summary>Votes of the history items' neighbours, in the history's order (as the replicated channel sums them).</summary>
    private static Dictionary<int, float> ItemVotes(ShardProbeReply[] replies, int[] recent)
    {
        var rows = replies.SelectMany(r => r.Neighbours).ToDictionary(r => r.Item);
        var votes = new Dictionary<int, float>();
        foreach (var h in recent)
        {
            if (!rows.TryGetValue(h, out var row))
            {
                continue; // its shard did not answer
            }

            for (var i = 0; i < row.Neighbours.Length; i++)
            {
                if (row.Similarities[i] > 0)
                {
                    votes[row.Neighbours[i]] = votes.GetValueOrDefault(row.Neighbours[i]) + row.Similarities[i];
                }
            }
        }

        return votes;
    }

    private static (int[] Items, float[] Votes) Owned(Dictionary<int, float> votes, int shard, int shards)
    {
        var items = new List<int>();
        var values = new List<float>();
        foreach (var (item, vote) in votes)
        {
            if (item % shards == shard)
            {
                items.Add(item);
                values.Add(vote);
            }
        }

        return ([.. items], [.. values]);
    }

    private static Candidate[] MergeTop(IEnumerable<(int[] Items, float[] Scores)> lists, int k, ChannelSet channel)
    {
        var all = lists.ToArray();
        var n = all.Sum(l => l.Items.Length);
        if (n == 0 || k <= 0)
        {
            return [];
        }

        var top = new TopKSelector(Math.Min(k, n));
        foreach (var (items, scores) in all)
        {
            for (var i = 0; i < items.Length; i++)
            {
                top.Add(items[i], scores[i]);
            }
        }

        var ids = new int[top.Count];
        var values = new float[top.Count];
        var count = top.Drain(ids, values);
        var result = new Candidate[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = new Candidate(ids[i], values[i], channel);
        }

        return result;
    }
}
