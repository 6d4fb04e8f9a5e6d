namespace MIC.Streaming.Core.Metrics;

/// <summary>Per-user ranking metrics at one cut-off N.</summary>
public readonly record struct UserMetrics(double Recall, double Ndcg, double HitRate, double RecallComiRec, double NdcgComiRec);

/// <summary>
/// Top-N ranking metrics for one user.
/// <para>Textbook (used everywhere in our reports): the targets are a set T (duplicates count once);
/// a ranked item counts at its first position only (a repeated id later in the list adds nothing but
/// still uses a slot). Recall@N = |hits|/|T|; NDCG@N = DCG/IDCG with DCG = Σ 1/log2(rank+1) over hit
/// ranks ≤ N and IDCG over min(|T|, N) ideal hits; HitRate@N = 1 if any hit.</para>
/// <para>ComiRec-compatible (THUDM/ComiRec <c>src/train.py</c> <c>evaluate_full</c>, see its issue #6):
/// iterates the <em>target list</em> in sequence order (duplicates kept), recall = hits/len(targets),
/// DCG discounts by the target's position in that list (not the item's rank), IDCG over the hit count.
/// Reported so numbers can be set beside published tables; never used to select models.</para>
/// </summary>
public static class RankingMetrics
{
    public static UserMetrics Compute(ReadOnlySpan<int> ranked, ReadOnlySpan<int> targets, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        if (targets.IsEmpty)
        {
            throw new ArgumentException("A user with no targets cannot be scored; skip it.", nameof(targets));
        }

        var top = ranked[..Math.Min(n, ranked.Length)];
        var targetSet = new HashSet<int>();
        foreach (var t in targets)
        {
            targetSet.Add(t);
        }

        // Textbook.
        var seen = new HashSet<int>();
        var hits = 0;
        var dcg = 0.0;
        for (var r = 0; r < top.Length; r++)
        {
            if (!seen.Add(top[r]))
            {
                continue; // a duplicate of an item already ranked higher
            }

            if (targetSet.Contains(top[r]))
            {
                hits++;
                dcg += 1.0 / Math.Log2(r + 2);
            }
        }

        var idcg = 0.0;
        var ideal = Math.Min(targetSet.Count, n);
        for (var r = 0; r < ideal; r++)
        {
            idcg += 1.0 / Math.Log2(r + 2);
        }

        // ComiRec-compatible: `item_list = set(I[i])`, loop over the target list.
        var comiHits = 0;
        var comiDcg = 0.0;
        for (var no = 0; no < targets.Length; no++)
        {
            if (seen.Contains(targets[no]))
            {
                comiHits++;
                comiDcg += 1.0 / Math.Log2(no + 2);
            }
        }

        var comiIdcg = 0.0;
        for (var no = 0; no < comiHits; no++)
        {
            comiIdcg += 1.0 / Math.Log2(no + 2);
        }

        return new UserMetrics(
            Recall: (double)hits / targetSet.Count,
            Ndcg: dcg / idcg,
            HitRate: hits > 0 ? 1 : 0,
            RecallComiRec: (double)comiHits / targets.Length,
            NdcgComiRec: comiHits > 0 ? comiDcg / comiIdcg : 0);
    }
}
