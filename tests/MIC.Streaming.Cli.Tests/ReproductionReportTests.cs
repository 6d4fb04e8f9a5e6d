using System.Text.Json;
using MIC.Streaming.Cli.Commands;
using MIC.Streaming.Cli.Reproduction;
using MIC.Streaming.Core.Evaluation;
using MIC.Streaming.Testing;

namespace MIC.Streaming.Cli.Tests;

/// <summary>
/// The committed reproduction (docs/reproduction/beauty-paper): its runs are still the ones the
/// default plan asks for, and the tables the code writes from them are the committed tables.
/// </summary>
public sealed class ReproductionReportTests : IDisposable
{
    private static readonly string Committed = Path.Combine(PythonTorch.RepoRoot(), "docs", "reproduction", "beauty-paper");
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (IReadOnlyList<ReproductionRunSpec> Plan, IReadOnlyList<ReproductionRunResult> Runs, List<TunedBaseline> Baselines) Load()
    {
        var settings = new ReproduceSettings();
        var plan = ReproductionPlan.Runs(ReproductionParts.All, settings.Encoders.Split(','), [.. settings.Seeds.Split(',').Select(int.Parse)], settings.ToOptions());
        var runs = ReproductionRunner.LoadAll(Path.Combine(Committed, "runs"));
        var baselines = JsonSerializer.Deserialize<List<TunedBaseline>>(File.ReadAllText(Path.Combine(Committed, "baselines.json")))!;
        return (plan, runs, baselines);
    }

    [Fact]
    public void The_Committed_Table_2_And_3_Runs_Are_Found_By_The_Default_Plan()
    {
        // A new training option that changed every key would orphan the committed runs: the reproduction
        // would train them again and the tables would silently lose their seeds.
        var (plan, runs, _) = Load();
        var finished = runs.Select(r => r.Key).ToHashSet(StringComparer.Ordinal);
        var tables = plan.Where(p => p.Piece is null && (p.Encoder != "dssm" || ReproductionPlan.Table3Variants.Contains(p.Variant))).ToList();
        Assert.True(tables.Count >= 30, $"{tables.Count} Table 2–3 runs planned");
        Assert.All(tables, p => Assert.True(finished.Contains(p.Key), $"{p.Model} seed {p.Seed} ({p.Key}) is not among the committed runs"));
    }

    [Fact]
    public void The_Committed_Report_Is_What_The_Code_Writes_And_Every_Results_Table_Has_EASE()
    {
        var (plan, runs, baselines) = Load();
        var path = ReproductionReport.Write(_dir.Path, "Beauty", ReproductionParts.All, plan, runs, baselines);
        var written = File.ReadAllText(path);
        Assert.Equal(File.ReadAllText(Path.Combine(Committed, "REPRODUCTION.md")), written);

        var ease = baselines.Single(b => b.Result.Model == "EASE");
        var sections = written.Split("\n## ").Skip(1).Where(s => s.Contains("\n|---", StringComparison.Ordinal)).ToList();
        Assert.True(sections.Count >= 8, string.Join(", ", sections.Select(s => s[..s.IndexOf('\n', StringComparison.Ordinal)])));
        foreach (var section in sections.Where(s => !s.StartsWith("Diagnostics", StringComparison.Ordinal) && !s.StartsWith("Baseline settings", StringComparison.Ordinal)))
        {
            var title = section[..section.IndexOf('\n', StringComparison.Ordinal)];
            Assert.True(
                section.Contains($"\n| {ease.Label}", StringComparison.Ordinal),
                $"'{title}' has no {ease.Label} row");
        }
    }
}
