namespace MIC.Streaming.Retrieval.Channels;

/// <summary>
/// U2I (MIC §3, inference): each user interest vector in the relevance space retrieves its nearest
/// items; with several interests (ComiRec) the per-interest top-K lists are merged by score, an
/// item keeping its best score.
/// </summary>
public static class U2IChannel
{
    public static Candidate[] Retrieve(RetrievalSpaces spaces, UserQuery query, int k)
    {
        ArgumentNullException.ThrowIfNull(spaces);
        ArgumentNullException.ThrowIfNull(query);
        var best = new Dictionary<int, float>();
        var hits = new Index.SearchHit[k];
        foreach (var q in ChannelMath.Normalise(query.RelevanceInterests))
        {
            var n = spaces.ItemRelevanceIndex.Search(q, k, hits);
            for (var i = 0; i < n; i++)
            {
                var item = (int)hits[i].Id;
                if (!best.TryGetValue(item, out var s) || hits[i].Score > s)
                {
                    best[item] = hits[i].Score;
                }
            }
        }

        return ChannelMath.Top(best, k, ChannelSet.U2I);
    }
}
