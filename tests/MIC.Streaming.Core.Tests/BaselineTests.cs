using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Evaluation;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Core.Synthetic;

namespace MIC.Streaming.Core.Tests;

public class BaselineTests
{
    private static SequenceTable Table(params int[][] users)
    {
        var offsets = new int[users.Length + 1];
        for (var u = 0; u < users.Length; u++)
        {
            offsets[u + 1] = offsets[u] + users[u].Length;
        }

        var items = users.SelectMany(x => x).ToArray();
        return new SequenceTable(offsets, items, new long[items.Length]);
    }

    [Fact]
    public void MostPop_RanksByTrainCount_TiesBySmallerId()
    {
        var pop = new MostPop();
        pop.Fit(Table([1, 2], [2, 3], [3, 0]), 4);

        var items = new int[4];
        var n = pop.Recommend([], items, new float[4]);

        Assert.Equal(4, n);
        Assert.Equal([2, 3, 0, 1], items);
    }

    [Fact]
    public void ItemCF_CosineOfCoOccurrence_HandComputed()
    {
        // item 0: users {0,1}; item 1: users {0}; item 2: users {1,2}.
        var cf = new ItemCF();
        cf.Fit(Table([0, 1], [0, 2], [2]), 3);

        var (ids, sims) = cf.NeighboursOf(0);

        Assert.Equal([1, 2], ids.ToArray());                       // 1/√(2·1) = .707 > 1/√(2·2) = .5
        Assert.Equal(1 / Math.Sqrt(2), sims.Span[0], 5);
        Assert.Equal(0.5, sims.Span[1], 5);
    }

    [Fact]
    public void ItemCF_ScoresSumOverHistory()
    {
        var cf = new ItemCF();
        cf.Fit(Table([0, 1], [0, 2], [2]), 3);

        var items = new int[2];
        var scores = new float[2];
        var n = cf.Recommend([1, 2], items, scores);

        // From 1: item 0 (.707). From 2: item 0 (.5). Item 0 total 1.207; then fill.
        Assert.Equal(2, n);
        Assert.Equal(0, items[0]);
        Assert.Equal((float)((1 / Math.Sqrt(2)) + 0.5), scores[0], 5);
        Assert.True(scores[1] < scores[0]);
    }

    [Fact]
    public void UserCF_SimilarUsersVoteWithSimilarity()
    {
        // Query history {0,1}. user0 {0,1,5}: sim 2/√6; user1 {0,7}: 1/√4 = .5; user2 {9}: 0.
        var cf = new UserCF();
        cf.Fit(Table([0, 1, 5], [0, 7], [9]), 10);

        var items = new int[4];
        var scores = new float[4];
        cf.Recommend([0, 1], items, scores);

        var s0 = (float)(2 / Math.Sqrt(6));
        Assert.Equal(0, items[0]);                   // voted by both users
        Assert.Equal(s0 + 0.5f, scores[0], 5);
        Assert.Equal([1, 5], items[1..3].Order());   // only user0 votes for them
        Assert.Equal(s0, scores[1], 5);
        Assert.Equal(7, items[3]);
    }

    [Fact]
    public void ItemCFAndUserCF_BeatMostPop_OnPlantedSyntheticData()
    {
        var data = new SyntheticDataGenerator(new SyntheticOptions { Users = 2000, Items = 1000, Categories = 20, Seed = 11 }).BuildDataset();
        var split = ComiRecSplitter.Split(data, seed: 5, maxLen: 20);

        var pop = Evaluator.Evaluate(new MostPop(), split);
        var itemCf = Evaluator.Evaluate(new ItemCF(), split);
        var userCf = Evaluator.Evaluate(new UserCF(), split);

        Assert.True(itemCf.Metrics["Recall@50"] > 1.5 * pop.Metrics["Recall@50"], $"ItemCF {itemCf.Metrics["Recall@50"]:F4} vs MostPop {pop.Metrics["Recall@50"]:F4}");
        Assert.True(userCf.Metrics["Recall@50"] > 1.5 * pop.Metrics["Recall@50"], $"UserCF {userCf.Metrics["Recall@50"]:F4} vs MostPop {pop.Metrics["Recall@50"]:F4}");
        Assert.Equal(split.Test.Count, pop.Users);
    }

    [Fact]
    public void Evaluator_EmptyTargets_AreSkipped()
    {
        var pop = new MostPop();
        pop.Fit(Table([1, 2]), 3);
        EvalCase[] cases = [new(0, [1], []), new(1, [1], [1])];

        var (metrics, _) = Evaluator.Run(cases, (c, items, scores) => pop.Recommend(c.History, items, scores), [2]);

        Assert.Equal(1, metrics.Users);
        Assert.Equal(1.0, metrics.Means()["Recall@2"]);
    }
}

public class EvaluatorHistoryTests
{
    [Fact]
    public void Run_ExcludeHistory_RemovesSeenItemsBeforeScoring()
    {
        // The ranker returns history item 1 first, then 2, 3. Target 3.
        EvalCase[] cases = [new(0, [1], [3])];
        Evaluator.RankFunction rank = (_, items, scores) =>
        {
            int[] ranked = [1, 2, 3];
            var n = Math.Min(items.Length, ranked.Length);
            ranked.AsSpan(0, n).CopyTo(items);
            return n;
        };

        var (kept, _) = Evaluator.Run(cases, rank, [2]);
        var (filtered, _) = Evaluator.Run(cases, rank, [2], excludeHistory: true);

        Assert.Equal(0.0, kept.Means()["Recall@2"]);
        Assert.Equal(1.0, filtered.Means()["Recall@2"]);
    }
}

public class EvaluatorDeterminismTests
{
    [Fact]
    public void Run_GivesBitIdenticalMeans_HoweverTheThreadsAreScheduled()
    {
        // 20,000 cases whose recall/NDCG terms are fractions that floating-point addition rounds
        // differently depending on the order they are summed in.
        var rng = new Random(5);
        var cases = Enumerable.Range(0, 20_000).Select(u => new EvalCase(u, [u % 97], [.. Enumerable.Range(0, 1 + rng.Next(7)).Select(_ => rng.Next(60))])).ToArray();
        Evaluator.RankFunction rank = (c, items, scores) =>
        {
            var r = new Random(c.User);
            for (var i = 0; i < items.Length; i++)
            {
                items[i] = r.Next(60);
                scores[i] = items.Length - i;
            }

            if (c.User % 7 == 0)
            {
                Thread.SpinWait(2_000); // uneven work, so chunks finish in another order each run
            }

            return items.Length;
        };

        // More pool threads than cores (as on a busy machine, or one with many cores): more partial sums.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 8), io);
        try
        {
            var first = Evaluator.Run(cases, rank, [20, 50]).Metrics.Means();
            for (var run = 0; run < 10; run++)
            {
                var again = Evaluator.Run(cases, rank, [20, 50]).Metrics.Means();
                foreach (var (name, value) in first)
                {
                    Assert.True(BitConverter.DoubleToInt64Bits(value) == BitConverter.DoubleToInt64Bits(again[name]), $"{name}: {value:R} then {again[name]:R} (run {run})");
                }
            }
        }
        finally
        {
            ThreadPool.SetMinThreads(workers, io);
        }
    }
}
