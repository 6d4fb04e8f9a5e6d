using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Metrics;

namespace MIC.Streaming.Core.Tests;

public class RankingMetricsTests
{
    private const double Tol = 1e-9;

    [Fact]
    public void Compute_OneHitAtRankTwo_MatchesHandComputedValues()
    {
        // ranked 1,2,3,4; targets {2,5}; N = 3 → one hit at rank 2.
        var m = RankingMetrics.Compute([1, 2, 3, 4], [2, 5], 3);

        Assert.Equal(0.5, m.Recall, Tol);
        var dcg = 1 / Math.Log2(3);
        var idcg = 1 + (1 / Math.Log2(3));
        Assert.Equal(dcg / idcg, m.Ndcg, Tol);
        Assert.Equal(1.0, m.HitRate);
    }

    [Fact]
    public void Compute_HitBeyondCutoff_IsNotCounted()
    {
        var m = RankingMetrics.Compute([1, 2, 3, 4], [4], 3);

        Assert.Equal(0, m.Recall);
        Assert.Equal(0, m.Ndcg);
        Assert.Equal(0, m.HitRate);
    }

    [Fact]
    public void Compute_FewerTargetsThanN_IdealDcgUsesTargetCount()
    {
        // One target at rank 3 of a 5-slot list: IDCG is a single hit at rank 1 (= 1).
        var m = RankingMetrics.Compute([1, 2, 3], [3], 5);

        Assert.Equal(1.0, m.Recall, Tol);
        Assert.Equal(1 / Math.Log2(4), m.Ndcg, Tol);
    }

    [Fact]
    public void Compute_MoreTargetsThanN_IdealDcgStopsAtN()
    {
        // 3 targets, N = 2, both slots hit: perfect NDCG, recall 2/3.
        var m = RankingMetrics.Compute([7, 8, 9], [7, 8, 9], 2);

        Assert.Equal(2.0 / 3, m.Recall, Tol);
        Assert.Equal(1.0, m.Ndcg, Tol);
    }

    [Fact]
    public void Compute_DuplicateInRankedList_CountsOnlyFirstOccurrence()
    {
        // 7 repeated: the second 7 uses slot 2 but adds nothing; 8 hits at rank 3.
        var m = RankingMetrics.Compute([7, 7, 8], [8, 9], 3);

        Assert.Equal(0.5, m.Recall, Tol);
        Assert.Equal((1 / Math.Log2(4)) / (1 + (1 / Math.Log2(3))), m.Ndcg, Tol);

        var repeatedHit = RankingMetrics.Compute([8, 8], [8, 9], 2);
        Assert.Equal(0.5, repeatedHit.Recall, Tol); // a hit repeated is still one hit
    }

    [Fact]
    public void Compute_DuplicateTargets_TextbookUsesSetComiRecUsesList()
    {
        var m = RankingMetrics.Compute([8], [8, 8, 9], 1);

        Assert.Equal(0.5, m.Recall, Tol);          // |{8}| / |{8,9}|
        Assert.Equal(2.0 / 3, m.RecallComiRec, Tol); // ComiRec divides by len(targets) and counts 8 twice
    }

    [Fact]
    public void Compute_ComiRecNdcg_DiscountsByTargetPositionNotRank()
    {
        // Item 8 sits at rank 3, but is the 2nd target: ComiRec's DCG = 1/log2(3), IDCG = 1 (one hit).
        var m = RankingMetrics.Compute([7, 6, 8], [9, 8], 3);

        Assert.Equal(1 / Math.Log2(3), m.NdcgComiRec, Tol);
        Assert.Equal((1 / Math.Log2(4)) / (1 + (1 / Math.Log2(3))), m.Ndcg, Tol);
    }

    [Fact]
    public void Compute_EmptyTargets_Throws()
    {
        Assert.Throws<ArgumentException>(() => RankingMetrics.Compute([1, 2], [], 2));
    }

    [Fact]
    public void Accumulator_AveragesPerUser()
    {
        var acc = new MetricsAccumulator([2]);
        acc.Add([1, 2], [1]);   // recall 1
        acc.Add([3, 4], [1]);   // recall 0

        Assert.Equal(2, acc.Users);
        Assert.Equal(0.5, acc.Means()["Recall@2"], Tol);
        Assert.Equal(0.5, acc.Means()["HitRate@2"], Tol);
    }

    [Fact]
    public void TopKSelector_TiedScores_RankSmallerIdFirst()
    {
        var top = new TopKSelector(3);
        foreach (var (id, score) in new[] { (9, 1f), (4, 2f), (2, 1f), (5, 1f), (1, 0.5f) })
        {
            top.Add(id, score);
        }

        var ids = new int[3];
        var scores = new float[3];
        var n = top.Drain(ids, scores);

        Assert.Equal(3, n);
        Assert.Equal([4, 2, 5], ids);
        Assert.Equal([2f, 1f, 1f], scores);
    }
}
