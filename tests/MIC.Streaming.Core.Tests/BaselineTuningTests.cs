using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Evaluation;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Core.Synthetic;

namespace MIC.Streaming.Core.Tests;

/// <summary>Neighbour counts as settings and their choice on validation users.</summary>
public class BaselineTuningTests
{
    [Fact]
    public void NeighbourCounts_AllKeepsEveryNeighbour_AndACapTruncates()
    {
        var data = new SyntheticDataGenerator(new SyntheticOptions { Users = 400, Items = 150, Categories = 5, Seed = 9 }).BuildDataset();
        var split = ComiRecSplitter.Split(data, seed: 3, maxLen: 20);
        var all = new ItemCF(neighbours: null);
        var capped = new ItemCF(neighbours: 3);
        var huge = new ItemCF(neighbours: 10_000);
        all.Fit(split.Train, data.ItemCount);
        capped.Fit(split.Train, data.ItemCount);
        huge.Fit(split.Train, data.ItemCount);
        var longest = Enumerable.Range(0, data.ItemCount).Max(i => all.NeighboursOf(i).Ids.Length);
        Assert.True(longest > 3);
        Assert.All(Enumerable.Range(0, data.ItemCount), i => Assert.InRange(capped.NeighboursOf(i).Ids.Length, 0, 3));
        Assert.All(Enumerable.Range(0, data.ItemCount), i => Assert.Equal(huge.NeighboursOf(i).Ids.ToArray(), all.NeighboursOf(i).Ids.ToArray()));

        var userAll = Evaluator.Evaluate(new UserCF(neighbours: null), split);
        var userHuge = Evaluator.Evaluate(new UserCF(neighbours: 100_000), split);
        var userFew = Evaluator.Evaluate(new UserCF(neighbours: 1), split);
        Assert.Equal(userHuge.Metrics["Recall@50"], userAll.Metrics["Recall@50"], 10);
        Assert.NotEqual(userFew.Metrics["Recall@50"], userAll.Metrics["Recall@50"], 6);
    }

    [Fact]
    public void Tuning_ChoosesTheBestValidationValue_AndScoresTestUsersWithIt()
    {
        var data = new SyntheticDataGenerator(new SyntheticOptions { Users = 400, Items = 150, Categories = 5, Seed = 9 }).BuildDataset();
        var split = ComiRecSplitter.Split(data, seed: 3, maxLen: 20);
        var spec = Recommenders.Spec("usercf");

        var tuned = BaselineTuning.Run(spec, split);

        Assert.Equal(spec.Grid, tuned.Trials.Select(t => t.Value));
        var best = tuned.Trials.MaxBy(t => t.Score)!;
        Assert.Equal(best.Value, tuned.Value);
        Assert.Equal(Evaluator.Evaluate(new UserCF(Recommenders.Count(best.Value)), split, onTest: false).Metrics[BaselineTuning.Metric], best.Score, 10);
        Assert.Equal(Evaluator.Evaluate(new UserCF(Recommenders.Count(best.Value)), split).Metrics["Recall@20"], tuned.Result.Metrics["Recall@20"], 10);
        Assert.StartsWith("tuned on", tuned.How, StringComparison.Ordinal);
        Assert.Equal($"UserCF (neighbours={best.Value})", tuned.Label);

        var fixedRun = BaselineTuning.Run(spec, split, fixedValue: "all");
        Assert.Empty(fixedRun.Trials);
        Assert.Equal("all", fixedRun.Value);
        var untuned = BaselineTuning.Run(Recommenders.Spec("itemcf"), split, tune: false);
        Assert.Equal("100", untuned.Value);
        Assert.Throws<ArgumentException>(() => Recommenders.Count("0"));
        Assert.Null(Recommenders.Count("ALL"));
        Assert.NotNull(spec.Check("ten"));
    }
}
