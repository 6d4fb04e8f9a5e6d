using System.Text.Json.Nodes;
using MIC.Streaming.Cli.Commands;
using MIC.Streaming.Cli.Reproduction;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Core.Synthetic;
using MIC.Streaming.Testing;

namespace MIC.Streaming.Cli.Tests;

/// <summary><c>mic reproduce --only levers</c>: "a model worth serving" from the one command.</summary>
[Collection(CliTestGroup.Name)]
public sealed class ReproduceLeversTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Levers_Are_Five_ComiRecSA_Runs_And_Share_The_Runs_Of_The_InBatch_Reading()
    {
        var paper = ReproductionPlan.Runs(ReproductionParts.Levers, ["dssm", "comirec-sa"], [2020], new ReproduceSettings().ToOptions());
        Assert.Equal(["lever-inbatch", "lever-sampled", "lever-inbatch-mic", "lever-sampled-mic", "lever-inbatch-maxlen50"], paper.Select(p => p.Piece));
        Assert.All(paper, p => Assert.Equal("comirec-sa", p.Encoder));
        Assert.Equal(5, paper.Select(p => p.Key).Distinct().Count());
        // The max-len lever is the in-batch lever with only the history length changed.
        Assert.Equal([20, 20, 20, 20, 50], paper.Select(p => p.Options.EncoderOptions.MaxLen));
        Assert.Equal(paper[0].Options with { EncoderOptions = paper[0].Options.EncoderOptions with { MaxLen = 50 } }, paper[4].Options);
        Assert.Empty(ReproductionPlan.Runs(ReproductionParts.Levers, ["dssm"], [2020], new ReproduceSettings().ToOptions()));

        // In the in-batch reading, Table 2's ComiRec-SA runs are the in-batch levers: trained once.
        var inBatch = new ReproduceSettings { Objective = "inbatch", SameSide = "pairwise", SupportWarmup = 0 }.ToOptions();
        var both = ReproductionPlan.Runs(ReproductionParts.Table2 | ReproductionParts.Levers, ["comirec-sa"], [2020], inBatch);
        Assert.Equal(5, both.Count);
        Assert.Equal([null, null, "lever-sampled", "lever-sampled-mic", "lever-inbatch-maxlen50"], both.Select(p => p.Piece));
    }

    [Fact]
    public void Reproduce_Levers_Trains_Each_Lever_And_Tunes_The_Merge_On_Validation_Users()
    {
        var outDir = Path.Combine(_dir.Path, "levers");
        var result = CliRun.InProcess(["reproduce", "--synthetic-users", "300", "--synthetic-items", "120", "--seeds", "1", "--encoders", "comirec-sa", "--only", "levers", "--epochs", "1", "--batch", "64", "--valid-users", "30", "--baselines", "mostpop,ease", "--out", outDir]);
        Assert.True(result.Code == 0, result.Error + result.Output);
        Assert.Contains("merged channel, weights chosen on 30 validation users", result.Output, StringComparison.Ordinal);

        var runs = Directory.GetFiles(Path.Combine(outDir, "runs"), "*.json").Select(f => JsonNode.Parse(File.ReadAllText(f))!).ToList();
        Assert.Equal(5, runs.Count);
        Assert.Equal(50, runs.Single(r => r["Piece"]!.GetValue<string>() == "lever-inbatch-maxlen50")["Options"]!["EncoderOptions"]!["MaxLen"]!.GetValue<int>());
        foreach (var run in runs)
        {
            var merge = run["TunedMerge"]!;
            Assert.Equal(30, merge["ValidationUsers"]!.GetValue<int>());
            Assert.Contains(merge["WeightU2U2I"]!.GetValue<float>(), MIC.Streaming.Model.Training.ChannelEvaluation.MergeWeightGrid);
            Assert.InRange(merge["Test"]!["Recall@50"]!.GetValue<double>(), 0, 1);
        }

        var report = File.ReadAllText(Path.Combine(outDir, "REPRODUCTION.md"));
        Assert.Contains("## A model worth serving: comirec-sa with one lever at a time", report, StringComparison.Ordinal);
        foreach (var lever in new[] { "inbatch", "sampled", "inbatch-mic", "sampled-mic", "inbatch-maxlen50" })
        {
            // Every cell filled: four channels, the tuned merge with its weights, the ratio to EASE.
            Assert.Matches($@"\| {lever} \| 1 \|( 0\.\d{{4}} ± 0\.0000 \|){{4}} 0\.\d{{4}} ± 0\.0000 \(1 : [\d.]+ : [\d.]+\) \| \d\.\d\d× \|", report);
        }

        Assert.DoesNotContain("## Table 2", report, StringComparison.Ordinal);
    }

    [Fact]
    public void The_MaxLen_Lever_Is_Scored_On_The_Same_Users_With_Histories_Cut_At_Its_Own_Length()
    {
        var dataset = new SyntheticDataGenerator(new SyntheticOptions { Users = 400, Items = 200, Categories = 5, MeanLength = 60, Seed = 3 }).BuildDataset();
        var made = new List<int>();
        var split = ComiRecSplitter.Split(dataset, 2020, 20);
        var splits = new ReproductionSplits(split, 20, maxLen => { made.Add(maxLen); return ComiRecSplitter.Split(dataset, 2020, maxLen); });
        var plan = ReproductionPlan.Runs(ReproductionParts.Levers, ["comirec-sa"], [2020], new ReproduceSettings().ToOptions());

        Assert.Same(split, splits.For(plan[0]));
        var longer = splits.For(plan.Single(p => p.Piece == "lever-inbatch-maxlen50"));
        Assert.Same(longer, splits.For(plan.Single(p => p.Piece == "lever-inbatch-maxlen50")));
        Assert.Equal([50], made);

        // Same users and targets; each history is the same recent items, only further back.
        Assert.Equal(split.Test.Select(c => c.User), longer.Test.Select(c => c.User));
        Assert.All(split.Test.Zip(longer.Test), p =>
        {
            Assert.Equal(p.First.Targets, p.Second.Targets);
            Assert.Equal(p.First.History, p.Second.History[^p.First.History.Length..]);
        });
        Assert.Equal(20, split.Test.Max(c => c.History.Length));
        Assert.InRange(longer.Test.Max(c => c.History.Length), 21, 50);
    }
}
