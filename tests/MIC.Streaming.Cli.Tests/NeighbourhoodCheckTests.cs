using System.Diagnostics;
using System.Globalization;
using MIC.Streaming.Core.Import;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Testing;

namespace MIC.Streaming.Cli.Tests;

/// <summary>
/// `mic eval baseline`'s ItemCF and UserCF against the independent numpy/scipy implementation
/// (bench/reference/neighbourhood_check.py) on the very same users: the script ports our split's
/// shuffle (.NET's seeded legacy Random driving Fisher–Yates), so a gap between the two is a
/// difference in the recommenders, not in the users drawn.
/// </summary>
public sealed class NeighbourhoodCheckTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [PythonScipyFact]
    public void The_Python_Check_Draws_Our_Test_Users_And_Scores_ItemCF_And_UserCF_As_We_Do()
    {
        // Users with a taste for one of eight item groups, so that neighbours mean something.
        var rng = new Random(11);
        var lines = Enumerable.Range(1, 900).Select(u =>
        {
            var group = rng.Next(8);
            var length = 4 + rng.Next(12);
            return u + " " + string.Join(' ', Enumerable.Range(0, length).Select(_ => 1 + (rng.NextDouble() < 0.8 ? group * 40 + rng.Next(40) : rng.Next(320))));
        });
        var data = _dir.Write("groups.txt", string.Join('\n', lines) + "\n");
        const int seed = 2020;

        var (dataset, _) = DatasetImporters.Load(data, "s3rec", new ImportOptions());
        var ours = ComiRecSplitter.Split(dataset, seed, 20).Test.Select(c => int.Parse(dataset.Users.GetRaw(c.User), CultureInfo.InvariantCulture) - 1).ToList();
        var python = Python(data, seed);
        var testUsers = python.Single(l => l.StartsWith("test users:", StringComparison.Ordinal))["test users:".Length..]
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
        Assert.True(ours.Count > 50, $"{ours.Count} test users");
        Assert.Equal(ours, testUsers);

        var outDir = Path.Combine(_dir.Path, "baselines");
        var (code, error, _) = CliRun.InProcess("eval", "baseline", "--data", data, "--format", "s3rec", "--seed", seed.ToString(CultureInfo.InvariantCulture), "--model", "itemcf,usercf", "--setting", "itemcf=all", "--setting", "usercf=100", "--out", outDir);
        Assert.True(code == 0, error);
        var csv = File.ReadAllLines(Path.Combine(outDir, "results.csv"));
        var header = csv[0].Split(',');
        var (model, recall) = (Array.IndexOf(header, "model"), Array.IndexOf(header, "Recall@50"));
        double Ours(string name) => double.Parse(csv.Skip(1).Select(l => l.Split(',')).Single(r => r[model].StartsWith(name, StringComparison.Ordinal))[recall], CultureInfo.InvariantCulture);

        // "groups.txt seed 2020 (our split): test users N, ItemCF(all) R@50 x, UserCF(100) R@50 y"
        var summary = python.Single(l => l.Contains("(our split)", StringComparison.Ordinal));
        double Theirs(string label) => double.Parse(summary[(summary.IndexOf(label, StringComparison.Ordinal) + label.Length)..].Split(',')[0].Trim(), CultureInfo.InvariantCulture);
        // The script prints four decimals; both sides break tied scores by the smaller id.
        Assert.InRange(Ours("ItemCF") - Theirs("ItemCF(all) R@50"), -0.00006, 0.00006);
        Assert.InRange(Ours("UserCF") - Theirs("UserCF(100) R@50"), -0.00006, 0.00006);
    }

    private static List<string> Python(string data, int seed)
    {
        var script = Path.Combine(PythonTorch.RepoRoot(), "bench", "reference", "neighbourhood_check.py");
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { script, data, seed.ToString(CultureInfo.InvariantCulture), "100", "--dotnet-split", "--print-test-users" })
        {
            info.ArgumentList.Add(arg);
        }

        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "the python check did not finish in 2 minutes");
        Assert.True(p.ExitCode == 0, stderr.Result);
        return [.. stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }
}
