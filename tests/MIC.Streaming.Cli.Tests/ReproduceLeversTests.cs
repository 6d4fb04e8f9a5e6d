using System.Text.Json.Nodes;
using MIC.Streaming.Cli.Commands;
using MIC.Streaming.Cli.Reproduction;
using MIC.Streaming.Testing;

namespace MIC.Streaming.Cli.Tests;

/// <summary><c>mic reproduce --only levers</c>: "a model worth serving" from the one command.</summary>
[Collection(CliTestGroup.Name)]
public sealed class ReproduceLeversTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Levers_Are_Four_ComiRecSA_Runs_And_Share_The_Runs_Of_The_InBatch_Reading()
    {
        var paper = ReproductionPlan.Runs(ReproductionParts.Levers, ["dssm", "comirec-sa"], [2020], new ReproduceSettings().ToOptions());
        Assert.Equal(["lever-inbatch", "lever-sampled", "lever-inbatch-mic", "lever-sampled-mic"], paper.Select(p => p.Piece));
        Assert.All(paper, p => Assert.Equal("comirec-sa", p.Encoder));
        Assert.Equal(4, paper.Select(p => p.Key).Distinct().Count());
        Assert.Empty(ReproductionPlan.Runs(ReproductionParts.Levers, ["dssm"], [2020], new ReproduceSettings().ToOptions()));

        // In the in-batch reading, Table 2's ComiRec-SA runs are the in-batch levers: trained once.
        var inBatch = new ReproduceSettings { Objective = "inbatch", SameSide = "pairwise", SupportWarmup = 0 }.ToOptions();
        var both = ReproductionPlan.Runs(ReproductionParts.Table2 | ReproductionParts.Levers, ["comirec-sa"], [2020], inBatch);
        Assert.Equal(4, both.Count);
        Assert.Equal([null, null, "lever-sampled", "lever-sampled-mic"], both.Select(p => p.Piece));
    }

    [Fact]
    public void Reproduce_Levers_Trains_Each_Lever_And_Tunes_The_Merge_On_Validation_Users()
    {
        var outDir = Path.Combine(_dir.Path, "levers");
        var result = CliRun.InProcess(["reproduce", "--synthetic-users", "300", "--synthetic-items", "120", "--seeds", "1", "--encoders", "comirec-sa", "--only", "levers", "--epochs", "1", "--batch", "64", "--valid-users", "30", "--baselines", "mostpop,ease", "--out", outDir]);
        Assert.True(result.Code == 0, result.Error + result.Output);
        Assert.Contains("merged channel, weights chosen on 30 validation users", result.Output, StringComparison.Ordinal);

        var runs = Directory.GetFiles(Path.Combine(outDir, "runs"), "*.json").Select(f => JsonNode.Parse(File.ReadAllText(f))!).ToList();
        Assert.Equal(4, runs.Count);
        foreach (var run in runs)
        {
            var merge = run["TunedMerge"]!;
            Assert.Equal(30, merge["ValidationUsers"]!.GetValue<int>());
            Assert.Contains(merge["WeightU2U2I"]!.GetValue<float>(), MIC.Streaming.Model.Training.ChannelEvaluation.MergeWeightGrid);
            Assert.InRange(merge["Test"]!["Recall@50"]!.GetValue<double>(), 0, 1);
        }

        var report = File.ReadAllText(Path.Combine(outDir, "REPRODUCTION.md"));
        Assert.Contains("## A model worth serving: comirec-sa with one lever at a time", report, StringComparison.Ordinal);
        foreach (var lever in new[] { "inbatch", "sampled", "inbatch-mic", "sampled-mic" })
        {
            // Every cell filled: four channels, the tuned merge with its weights, the ratio to EASE.
            Assert.Matches($@"\| {lever} \| 1 \|( 0\.\d{{4}} ± 0\.0000 \|){{4}} 0\.\d{{4}} ± 0\.0000 \(1 : [\d.]+ : [\d.]+\) \| \d\.\d\d× \|", report);
        }

        Assert.DoesNotContain("## Table 2", report, StringComparison.Ordinal);
    }
}
