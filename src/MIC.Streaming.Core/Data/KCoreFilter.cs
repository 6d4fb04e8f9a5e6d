namespace MIC.Streaming.Core.Data;

/// <summary>
/// Iterative k-core filtering (ComiRec uses k = 5): repeatedly drops users and items with fewer
/// than k interactions until every remaining user and item has at least k.
/// </summary>
public static class KCoreFilter
{
    public static InteractionDataset Apply(InteractionDataset dataset, int k)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var seqs = dataset.Sequences;
        var keepUser = Enumerable.Repeat(true, dataset.UserCount).ToArray();
        var keepItem = Enumerable.Repeat(true, dataset.ItemCount).ToArray();
        var changed = true;
        while (changed)
        {
            changed = false;
            var itemCounts = new int[dataset.ItemCount];
            for (var u = 0; u < dataset.UserCount; u++)
            {
                if (!keepUser[u])
                {
                    continue;
                }

                var userCount = 0;
                foreach (var item in seqs.Sequence(u))
                {
                    if (keepItem[item])
                    {
                        userCount++;
                    }
                }

                if (userCount < k)
                {
                    keepUser[u] = false;
                    changed = true;
                    continue;
                }

                foreach (var item in seqs.Sequence(u))
                {
                    if (keepItem[item])
                    {
                        itemCounts[item]++;
                    }
                }
            }

            for (var i = 0; i < dataset.ItemCount; i++)
            {
                if (keepItem[i] && itemCounts[i] < k)
                {
                    keepItem[i] = false;
                    changed = true;
                }
            }
        }

        return dataset.Filter(keepUser, keepItem);
    }
}
