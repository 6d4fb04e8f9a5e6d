namespace MIC.Streaming.Retrieval.Channels;

/// <summary>
/// U2U2I (MIC §3, inference): the user's own-space vector finds the most similar indexed users;
/// each item in their recent histories gets the summed similarity of the users that hold it, times
/// the query user's relevance (cosine) to the item: score(j) = Σ_{v ∋ j} sim(u, v) · cos(u, j).
/// The query user itself is skipped when it is indexed.
/// </summary>
public static class U2U2IChannel
{
    public static Candidate[] Retrieve(RetrievalSpaces spaces, UserQuery query, int k, ChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(spaces);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(options);
        var votes = ChannelMath.RentVotes();
        var hits = new Index.SearchHit[options.SimilarUsers + 1];
        var seen = new HashSet<int>(); // one similar user's distinct items (reused: one per query, not per user)
        foreach (var q in ChannelMath.Normalise(query.OwnInterests))
        {
            var n = spaces.UserOwnIndex.Search(q, hits.Length, hits);
            var used = 0;
            for (var i = 0; i < n && used < options.SimilarUsers; i++)
            {
                var user = (int)hits[i].Id;
                if (user == query.UserIndex || hits[i].Score <= 0)
                {
                    continue;
                }

                used++;
                var history = spaces.UserHistories.Sequence(user);
                var recent = history[Math.Max(0, history.Length - options.ItemsPerSimilarUser)..];
                seen.Clear();
                foreach (var item in recent)
                {
                    if (seen.Add(item))
                    {
                        votes[item] = votes.GetValueOrDefault(item) + hits[i].Score;
                    }
                }
            }
        }

        return ChannelMath.TopByVoteTimesRelevance(votes, ChannelMath.Normalise(query.RelevanceInterests), spaces.ItemRelevance, k, ChannelSet.U2U2I);
    }
}
