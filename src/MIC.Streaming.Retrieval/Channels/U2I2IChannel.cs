namespace MIC.Streaming.Retrieval.Channels;

/// <summary>
/// U2I2I (MIC §3, inference): each of the user's most recent history items finds its most similar
/// items in the item space; a candidate gets the summed similarity to the history items that
/// proposed it, times the user's relevance (cosine) to it: score(j) = Σ_h sim(h, j) · cos(u, j).
/// History items themselves are not proposed by their own lookup.
/// </summary>
public static class U2I2IChannel
{
    public static Candidate[] Retrieve(RetrievalSpaces spaces, UserQuery query, int k, ChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(spaces);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(options);
        var votes = new Dictionary<int, float>();
        var hits = new Index.SearchHit[options.SimilarItemsPerHistoryItem + 1];
        var history = query.History;
        var recent = history.Skip(Math.Max(0, history.Length - options.RecentHistoryItems)).Distinct();
        foreach (var h in recent)
        {
            if ((uint)h >= (uint)spaces.ItemOwn.Rows)
            {
                continue; // an item the model has no vector for
            }

            var n = spaces.ItemOwnIndex.Search(spaces.ItemOwn.Row(h), hits.Length, hits);
            for (var i = 0; i < n; i++)
            {
                var item = (int)hits[i].Id;
                if (item != h && hits[i].Score > 0)
                {
                    votes[item] = votes.GetValueOrDefault(item) + hits[i].Score;
                }
            }
        }

        var relevance = ChannelMath.Normalise(query.RelevanceInterests);
        var scores = new Dictionary<int, float>(votes.Count);
        foreach (var (item, vote) in votes)
        {
            scores[item] = vote * ChannelMath.Relevance(relevance, spaces.ItemRelevance.Row(item));
        }

        return ChannelMath.Top(scores, k, ChannelSet.U2I2I);
    }
}
