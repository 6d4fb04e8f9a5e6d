using System.Diagnostics;
using System.Text.Json.Nodes;
using MIC.Streaming.Testing;

namespace MIC.Streaming.Cli.Tests;

/// <summary>A reproduction killed with SIGKILL mid-run continues that run from its last finished epoch.</summary>
[Collection(CliTestGroup.Name)]
public sealed class ReproduceKillTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Reproduce_Killed_MidRun_Continues_The_Run_From_Its_Last_Epoch()
    {
        var outDir = Path.Combine(_dir.Path, "repro");
        string[] args = ["reproduce", "--synthetic-users", "300", "--synthetic-items", "120", "--seeds", "1", "--encoders", "dssm", "--only", "table2", "--epochs", "5", "--patience", "0", "--batch", "64", "--valid-users", "30", "--support-warmup", "2", "--baselines", "mostpop", "--out", outDir];
        var models = Path.Combine(outDir, "models");

        using (var mic = CliRun.Start(args))
        {
            var watch = Stopwatch.StartNew();
            while (!mic.HasExited && !(Directory.Exists(models) && Directory.EnumerateFiles(models, "*.state").Any()) && watch.Elapsed < TimeSpan.FromMinutes(3))
            {
                Thread.Sleep(10);
            }

            if (mic.HasExited)
            {
                Assert.Fail($"mic exited ({mic.ExitCode}) before any epoch was saved");
            }

            mic.Kill(entireProcessTree: true); // SIGKILL: nothing runs after this
            mic.WaitForExit();
        }

        var state = Directory.EnumerateFiles(models, "*.state").Single();
        var key = Path.GetFileNameWithoutExtension(state);
        Assert.False(File.Exists(Path.Combine(outDir, "runs", key + ".json")));

        var resumed = CliRun.InProcess(args);
        Assert.True(resumed.Code == 0, resumed.Error + resumed.Output);
        Assert.Matches(@"resumed after epoch \d", resumed.Output);
        var run = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "runs", key + ".json")))!;
        var after = run["Train"]!["ResumedAfter"]!.AsArray().Single()!.GetValue<int>();
        Assert.InRange(after, 1, 4);
        Assert.Equal(5, run["Train"]!["Epochs"]!.GetValue<int>());
        // The measurements of the epochs before the kill were kept: one point per epoch, in order.
        Assert.Equal([1, 2, 3, 4, 5], run["Epochs"]!.AsArray().Select(e => e!["Epoch"]!.GetValue<int>()));
        Assert.Empty(Directory.EnumerateFiles(models, "*.state*"));
        Assert.Contains("Runs finished: 2 of 2.", File.ReadAllText(Path.Combine(outDir, "REPRODUCTION.md")), StringComparison.Ordinal);
    }
}
