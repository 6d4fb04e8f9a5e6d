namespace MIC.Streaming.Retrieval.Channels;

/// <summary>
/// U2I2I (MIC §3, inference): each of the user's most recent history items finds its most similar
/// items in the item space; a candidate gets the summed similarity to the history items that
/// proposed it, times the user's relevance (cosine) to it: score(j) = Σ_h sim(h, j) · cos(u, j).
/// History items themselves are not proposed by their own lookup. With an
/// <see cref="ItemNeighbourTable"/> in the spaces the lookups are table reads, otherwise index searches.
/// </summary>
public static class U2I2IChannel
{
    public static Candidate[] Retrieve(RetrievalSpaces spaces, UserQuery query, int k, ChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(spaces);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(options);
        var votes = ChannelMath.RentVotes();
        var history = query.History;
        var recent = history.Skip(Math.Max(0, history.Length - options.RecentHistoryItems)).Distinct()
            .Where(h => (uint)h < (uint)spaces.ItemOwn.Rows) // items the model has no vector for are skipped
            .ToArray();
        if (recent.Length > 0 && spaces.ItemNeighbours is { } table && table.Width >= options.SimilarItemsPerHistoryItem && table.Items == spaces.ItemOwn.Rows)
        {
            // Precomputed neighbours: no search at query time.
            foreach (var h in recent)
            {
                var row = h * table.Width;
                for (var i = 0; i < options.SimilarItemsPerHistoryItem; i++)
                {
                    var item = table.Ids[row + i];
                    if (item < 0)
                    {
                        break;
                    }

                    if (table.Similarities[row + i] > 0)
                    {
                        votes[item] = votes.GetValueOrDefault(item) + table.Similarities[row + i];
                    }
                }
            }
        }
        else if (recent.Length > 0)
        {
            // All history items in one batched search.
            var d = spaces.ItemOwn.Dimension;
            var perItem = options.SimilarItemsPerHistoryItem + 1;
            var queries = new float[recent.Length * d];
            for (var i = 0; i < recent.Length; i++)
            {
                spaces.ItemOwn.Row(recent[i]).CopyTo(queries.AsSpan(i * d, d));
            }

            var hits = new Index.SearchHit[recent.Length * perItem];
            var counts = new int[recent.Length];
            spaces.ItemOwnIndex.SearchMany(queries, perItem, hits, counts);
            for (var q = 0; q < recent.Length; q++)
            {
                for (var i = 0; i < counts[q]; i++)
                {
                    var hit = hits[(q * perItem) + i];
                    var item = (int)hit.Id;
                    if (item != recent[q] && hit.Score > 0)
                    {
                        votes[item] = votes.GetValueOrDefault(item) + hit.Score;
                    }
                }
            }
        }

        return ChannelMath.TopByVoteTimesRelevance(votes, ChannelMath.Normalise(query.RelevanceInterests), spaces.ItemRelevance, k, ChannelSet.U2I2I);
    }
}
