using System.Text.Json;
using MIC.Streaming.Cli.Commands;
using MIC.Streaming.Cli.Reproduction;
using MIC.Streaming.Core.Evaluation;
using MIC.Streaming.Testing;

namespace MIC.Streaming.Cli.Tests;

/// <summary>
/// The committed reproductions (docs/reproduction/beauty-paper, everything; sports-paper, Table 2 and
/// the levers): their runs are still the ones the default plan asks for, and the tables the code writes
/// from them are the committed tables.
/// </summary>
public sealed class ReproductionReportTests : IDisposable
{
    /// <summary>Each committed reproduction: its folder, the dataset name its report carries, and the parts it ran.</summary>
    public static TheoryData<string, string, string> Reproductions => new()
    {
        { "beauty-paper", "Beauty", "all" },
        { "sports-paper", "Sports_and_Outdoors", "table2,levers" },
    };

    private static string Committed(string name) => Path.Combine(PythonTorch.RepoRoot(), "docs", "reproduction", name);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (ReproductionParts Parts, IReadOnlyList<ReproductionRunSpec> Plan, IReadOnlyList<ReproductionRunResult> Runs, List<TunedBaseline> Baselines) Load(string name, string only)
    {
        var settings = new ReproduceSettings { Only = only == "all" ? null : only };
        var parts = settings.Parts;
        var plan = ReproductionPlan.Runs(parts, settings.Encoders.Split(','), [.. settings.Seeds.Split(',').Select(int.Parse)], settings.ToOptions());
        var runs = ReproductionRunner.LoadAll(Path.Combine(Committed(name), "runs"));
        var baselines = JsonSerializer.Deserialize<List<TunedBaseline>>(File.ReadAllText(Path.Combine(Committed(name), "baselines.json")))!;
        return (parts, plan, runs, baselines);
    }

    [Theory]
    [MemberData(nameof(Reproductions))]
    public void The_Committed_Table_2_And_3_Runs_Are_Found_By_The_Default_Plan(string name, string dataset, string only)
    {
        // A new training option that changed every key would orphan the committed runs: the reproduction
        // would train them again and the tables would silently lose their seeds.
        _ = dataset;
        var (_, plan, runs, _) = Load(name, only);
        var finished = runs.Select(r => r.Key).ToHashSet(StringComparer.Ordinal);
        var tables = plan.Where(p => p.Piece is null && (p.Encoder != "dssm" || ReproductionPlan.Table3Variants.Contains(p.Variant))).ToList();
        Assert.True(tables.Count >= 24, $"{tables.Count} Table 2–3 runs planned");
        Assert.All(tables, p => Assert.True(finished.Contains(p.Key), $"{p.Model} seed {p.Seed} ({p.Key}) is not among the committed runs"));
    }

    [Theory]
    [MemberData(nameof(Reproductions))]
    public void The_Committed_Report_Is_What_The_Code_Writes_And_Every_Results_Table_Has_EASE(string name, string dataset, string only)
    {
        var (parts, plan, runs, baselines) = Load(name, only);
        var path = ReproductionReport.Write(_dir.Path, dataset, parts, plan, runs, baselines);
        var written = File.ReadAllText(path);
        Assert.Equal(File.ReadAllText(Path.Combine(Committed(name), "REPRODUCTION.md")), written);

        var ease = baselines.Single(b => b.Result.Model == "EASE");
        var sections = written.Split("\n## ").Skip(1).Where(s => s.Contains("\n|---", StringComparison.Ordinal)).ToList();
        Assert.True(sections.Count >= (parts == ReproductionParts.All ? 8 : 3), string.Join(", ", sections.Select(s => s[..s.IndexOf('\n', StringComparison.Ordinal)])));
        foreach (var section in sections.Where(s => !s.StartsWith("Diagnostics", StringComparison.Ordinal) && !s.StartsWith("Baseline settings", StringComparison.Ordinal)))
        {
            var title = section[..section.IndexOf('\n', StringComparison.Ordinal)];
            Assert.True(
                section.Contains($"\n| {ease.Label}", StringComparison.Ordinal),
                $"'{title}' has no {ease.Label} row");
        }
    }
}
