using Microsoft.Extensions.Configuration;
using MIC.Streaming.Cli.Commands;
using MIC.Streaming.Cli.Reproduction;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Testing;
using Spectre.Console.Cli.Testing;

namespace MIC.Streaming.Cli.Tests;

/// <summary>
/// Bad options fail before any data is read or any model is trained: exit code ≠ 0 and one line
/// naming the option, the bad value and what is allowed.
/// </summary>
[Collection(CliTestGroup.Name)]
public sealed class FailFastTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("experiment --encoders dssm,foo", "--encoders", "'foo'")]
    [InlineData("experiment --variants base,bogus", "--variants", "'bogus'")]
    [InlineData("experiment --seeds 2020,x", "--seeds", "'x'")]
    [InlineData("experiment --channels U2X", "--channels", "'U2X'")]
    [InlineData("train --epochs -1", "--epochs", "-1")]
    [InlineData("kafka --brokers 0", "--brokers", "0")]
    [InlineData("kafka --topic clicks:0", "--topic", "'clicks:0'")]
    [InlineData("chaos --bootstrap-file /nonexistent/boot --silos http://127.0.0.1:1", "--bootstrap-file", "'/nonexistent/boot'")]
    [InlineData("chaos --bootstrap x:1 --silos ftp://a", "--silos", "'ftp://a'")]
    [InlineData("chaos --bootstrap x:1 --silos http://a --users 10 --seconds 600", "--users", "10")]
    [InlineData("train --batch 1", "--batch", "1")]
    [InlineData("train --encoder foo", "--encoder", "'foo'")]
    [InlineData("train --lr 0", "--lr", "0")]
    [InlineData("train --resume /nonexistent/run.state", "--resume", "'/nonexistent/run.state'")]
    [InlineData("eval baseline --protocol foo", "--protocol", "'foo'")]
    [InlineData("eval baseline --columns user=0,item=1", "--columns", "'time'")]
    [InlineData("eval model", "--checkpoint", "required")]
    [InlineData("data generate --drift 2", "--drift", "2")]
    [InlineData("produce --bootstrap 127.0.0.1:1 --rate -5", "--rate", "-5")]
    [InlineData("bench trainer --steps 2", "steps", "Unknown")]
    [InlineData("train --objective softmax", "--objective", "'softmax'")]
    [InlineData("train --objective sampled:0", "--objective", "'sampled:0'")]
    [InlineData("train --same-side cosine", "--same-side", "'cosine'")]
    [InlineData("train --support-warmup -3", "--support-warmup", "-3")]
    [InlineData("eval baseline --model ease,knn", "--model", "'knn'")]
    [InlineData("eval baseline --setting itemcf=0", "--setting", "'itemcf=0'")]
    [InlineData("eval baseline --setting ease=abc", "--setting", "'ease=abc'")]
    [InlineData("eval baseline --model mostpop --setting itemcf=all", "--setting", "'itemcf=all'")]
    [InlineData("reproduce --only table9", "--only", "'table9'")]
    [InlineData("reproduce --objective sampled:x", "--objective", "'sampled:x'")]
    [InlineData("reproduce --seeds 1,a", "--seeds", "'a'")]
    [InlineData("reproduce --valid", "--valid", "not supported")]
    [InlineData("bench index --kinds exact,ivf-pq7", "--kinds", "'ivf-pq7'")]
    [InlineData("bench index --kinds ivf-lsh", "--kinds", "'ivf-lsh'")]
    [InlineData("reproduce --exclude-history", "--exclude-history", "not supported")]
    [InlineData("bench streaming --rps -1", "--rps", "-1")] // was "Non-negative number required." after starting Redis
    [InlineData("bench streaming --seconds 0", "--seconds", "0")]
    [InlineData("bench streaming --skip-ingest --skip-serving", "--skip-ingest", "--skip-serving")]
    [InlineData("offline-demo --demo-epochs 0", "--demo-epochs", "0")] // was the trainer's unnamed error after the baselines ran
    public void BadOption_FailsBeforeWork_NamingOptionAndValue(string commandLine, string option, string value)
    {
        var (code, error, _) = Run(commandLine.Split(' '));

        Assert.NotEqual(0, code);
        Assert.Contains(option, error, StringComparison.Ordinal);
        Assert.Contains(value, error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void Train_Resume_From_A_File_That_Is_Not_A_Saved_State_Fails_Before_Training()
    {
        var state = _dir.Write("bad.state", "garbage\n");
        var (code, error, output) = Run("train", "--resume", state, "--synthetic-users", "300", "--synthetic-items", "120");

        Assert.Equal(1, code);
        Assert.Contains($"--resume '{state}'", error, StringComparison.Ordinal);
        Assert.Contains("is not a tensor file", error, StringComparison.Ordinal);
        Assert.DoesNotContain("users", output, StringComparison.Ordinal); // no data was generated or split
        Assert.Equal("garbage\n", File.ReadAllText(state)); // and the file is left as it was
    }

    [Fact]
    public void Demo_BadAllocatorSetting_FailsBeforeTraining_NamingTheKey()
    {
        // The demo starts libtorch before its silo, so it reads the trainer's allocator setting itself.
        Environment.SetEnvironmentVariable("Trainer__ReuseFreedMemory", "maybe");
        try
        {
            var data = _dir.Write("tiny.txt", "1 1 2 3\n2 2 3 4\n");
            var (code, error, output) = Run("demo", "--data", data, "--format", "s3rec");

            Assert.NotEqual(0, code);
            Assert.Contains("Trainer:ReuseFreedMemory", error, StringComparison.Ordinal);
            Assert.Contains("'maybe'", error, StringComparison.Ordinal);
            Assert.DoesNotContain("epoch", output, StringComparison.OrdinalIgnoreCase); // nothing was trained
        }
        finally
        {
            Environment.SetEnvironmentVariable("Trainer__ReuseFreedMemory", null);
        }
    }

    [Fact]
    public void A_Command_That_Draws_A_Rule_Then_Fails_Reports_Its_Own_Error_In_Process()
    {
        // The in-process harness's console was int.MaxValue columns wide: the offline demo's opening
        // Rule built a line that long and the run ended, after ~30 s, in OutOfMemoryException instead
        // of the data error. (The old demo path with a bad silo setting died the same way.)
        var bad = _dir.Write("no-items.txt", "justone\n");
        var (code, error, output) = Run("offline-demo", "--data", bad, "--format", "s3rec");

        Assert.Equal(1, code);
        Assert.DoesNotContain("OutOfMemoryException", error, StringComparison.Ordinal);
        Assert.Contains("no-items.txt:1: expected 'user item [item ...]'", error, StringComparison.Ordinal);
        Assert.Contains("MIC.Streaming offline demo", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Trainer__KeepVersions", "abc", "Trainer:KeepVersions")] // the binder's error
    [InlineData("Serving__LiveSequenceTimeout", "00:10:00", "Serving:LiveSequenceTimeout")] // a validator's
    public void Demo_BadSiloSetting_FailsBeforeTraining_NamingTheKey(string variable, string value, string key)
    {
        // The demo's silo starts after a minute of training; its settings are checked before it.
        Environment.SetEnvironmentVariable(variable, value);
        try
        {
            var data = _dir.Write("tiny.txt", "1 1 2 3\n2 2 3 4\n");
            var (code, error, output) = Run("demo", "--data", data, "--format", "s3rec");

            Assert.Equal(1, code);
            Assert.Contains(key, error, StringComparison.Ordinal);
            Assert.DoesNotContain("bug", error, StringComparison.Ordinal);
            Assert.DoesNotContain("epoch", output, StringComparison.OrdinalIgnoreCase); // nothing was trained
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void A_Setting_The_Hosted_Silo_Cannot_Read_Is_A_Users_Error_Naming_The_Key_Not_A_Bug()
    {
        // What `Trainer__KeepVersions=abc mic demo` ended with after training: the binder's own exception.
        var binding = Assert.Throws<InvalidOperationException>(() => new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Trainer:KeepVersions"] = "abc" }).Build()
            .GetSection("Trainer").Get<MIC.Streaming.Trainer.TrainerOptions>());
        var previous = Console.Error;
        using var error = new StringWriter();
        Console.SetError(error);
        try
        {
            Assert.Equal(1, CliErrors.Report(binding));
        }
        finally
        {
            Console.SetError(previous);
        }

        Assert.Contains("Trainer:KeepVersions", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("'abc'", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("bug", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyDataFile_IsAnError()
    {
        var empty = _dir.Write("empty.txt", string.Empty);

        var (code, error, _) = Run("data", "stats", "--data", empty, "--format", "s3rec");

        Assert.NotEqual(0, code);
        Assert.Contains("empty", error, StringComparison.Ordinal);
    }

    [Fact]
    public void BlankLinesOnly_IsAnError_NotATableOfZeros()
    {
        var blank = _dir.Write("blank.txt", "\n\n");

        var (code, error, _) = Run("eval", "baseline", "--data", blank, "--format", "s3rec");

        Assert.Equal(1, code);
        Assert.Contains("no interactions", error, StringComparison.Ordinal);
    }

    [Fact]
    public void KCoreRemovingEverything_IsAnError()
    {
        var (code, error, _) = Run("data", "stats", "--synthetic-users", "50", "--synthetic-items", "40", "--k-core", "1000");

        Assert.Equal(1, code);
        Assert.Contains("--k-core 1000", error, StringComparison.Ordinal);
    }

    [Fact]
    public void FolderAsData_SaysItIsAFolder()
    {
        var (code, error, _) = Run("data", "stats", "--data", _dir.Path, "--format", "s3rec");

        Assert.NotEqual(0, code);
        Assert.Contains("is a folder", error, StringComparison.Ordinal);
    }

    [Fact]
    public void DataGenerate_OutInMissingFolder_CreatesIt()
    {
        var target = Path.Combine(_dir.Path, "gen", "deeper", "x.csv");

        var (code, _, _) = Run("data", "generate", "--out", target, "--users", "20", "--items", "30");

        Assert.Equal(0, code);
        Assert.True(File.Exists(target));
    }

    [Fact]
    public void DataImport_OutInMissingFolder_WritesSnapshot_AndWithoutOutSaysNothingWritten()
    {
        var csv = Path.Combine(_dir.Path, "in.csv");
        Assert.Equal(0, Run("data", "generate", "--out", csv, "--users", "20", "--items", "30").Code);
        var snapshot = Path.Combine(_dir.Path, "snaps", "x.micds");

        var withOut = Run("data", "import", "--data", csv, "--format", "taobao", "--out", snapshot);
        var withoutOut = Run("data", "import", "--data", csv, "--format", "taobao");

        Assert.Equal(0, withOut.Code);
        Assert.True(File.Exists(snapshot));
        Assert.Equal(0, withoutOut.Code);
        Assert.Contains("Nothing written", withoutOut.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void EvalBaseline_EaseOnACatalogueTooLarge_IsSkippedWithTheReason_OthersRun()
    {
        var (code, _, output) = Run("eval", "baseline", "--synthetic-users", "40000", "--synthetic-items", "40000", "--model", "mostpop,ease", "--out", Path.Combine(_dir.Path, "big"));

        Assert.Equal(0, code);
        Assert.Contains("Skipped ease: EASE needs a dense 39971×39971 inverse", output.Replace("\n", " ", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("MostPop", File.ReadAllText(Path.Combine(_dir.Path, "big", "results.csv")), StringComparison.Ordinal);
    }

    [MIC.Streaming.Testing.PythonTorchFact]
    public void BenchTrain_Reference_TimesThePyTorchStepOnTheSameBatches()
    {
        var (code, error, output) = Run("bench", "train", "--synthetic-users", "400", "--synthetic-items", "200", "--encoders", "dssm,youtubednn", "--variants", "full", "--steps", "2", "--batch", "64", "--queries", "5", "--reference");
        Assert.True(code == 0, error);

        // S3-Rec data has no user fields: the exported batches hold an empty [B, 0] field tensor.
        var rng = new Random(4);
        var lines = Enumerable.Range(1, 300).Select(u => u + " " + string.Join(' ', Enumerable.Range(0, 6 + (u % 5)).Select(_ => 1 + rng.Next(80))));
        var s3rec = _dir.Write("tiny-s3rec.txt", string.Join('\n', lines) + "\n");
        var noFields = Run("bench", "train", "--data", s3rec, "--format", "s3rec", "--encoders", "dssm", "--variants", "base", "--steps", "2", "--batch", "64", "--queries", "5", "--reference");
        Assert.True(noFields.Code == 0, noFields.Error);
        Assert.Matches(@"dssm\s+│\s+base\s+│\s+\d+\s+│\s+\d+ \(\d+\.\d\d×\) fwd/bwd/opt \d+/\d+/\d+ ms", noFields.Output);
        Assert.Matches(@"dssm\s+│\s+full\s+│\s+\d+\s+│\s+\d+ \(\d+\.\d\d×\) fwd/bwd/opt \d+/\d+/\d+ ms", output);
        Assert.Contains("no reference", output, StringComparison.Ordinal); // YouTubeDNN has none
    }

    [Fact]
    public void Reproduce_IsResumable_AndWritesEveryTable()
    {
        var outDir = Path.Combine(_dir.Path, "repro");
        string[] args = ["reproduce", "--synthetic-users", "300", "--synthetic-items", "120", "--seeds", "1", "--encoders", "dssm", "--only", "table2", "--epochs", "1", "--batch", "64", "--valid-users", "30", "--support-warmup", "2", "--out", outDir];

        var first = Run(args);
        Assert.Equal(0, first.Code);
        var runs = Directory.GetFiles(Path.Combine(outDir, "runs"), "*.json");
        Assert.Equal(2, runs.Length); // dssm vanilla and +MIC
        var written = runs.ToDictionary(f => f, File.GetLastWriteTimeUtc);
        var report = File.ReadAllText(Path.Combine(outDir, "REPRODUCTION.md"));
        Assert.Contains("Runs finished: 2 of 2.", report, StringComparison.Ordinal);
        Assert.Contains("| dssm+MIC(FULL) | U2I | 1 |", report, StringComparison.Ordinal);
        Assert.Contains("EASE (lambda=", report, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(outDir, "table2.csv")));

        var second = Run(args);
        Assert.Equal(0, second.Code);
        Assert.Contains("2 runs planned, 2 already finished", second.Output, StringComparison.Ordinal);
        Assert.All(written, w => Assert.Equal(w.Value, File.GetLastWriteTimeUtc(w.Key))); // nothing retrained

        // A +MIC run is also scored from its own spaces; a run finished before that was measured gets
        // it from its saved weights on the next invocation, without retraining, and the same values.
        var fullRun = runs.Single(f => Path.GetFileName(f).StartsWith("dssm-full-", StringComparison.Ordinal));
        var measured = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(fullRun))!.AsObject();
        var ownU2I = measured["OwnSpaceChannels"]!["U2I"]!["Recall@50"]!.GetValue<double>();
        Assert.Null(System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(runs.Single(f => f != fullRun)))!["OwnSpaceChannels"]);
        measured.Remove("OwnSpaceChannels");
        File.WriteAllText(fullRun, measured.ToJsonString());
        var remeasured = Run(args);
        Assert.Equal(0, remeasured.Code);
        Assert.Contains("re-measuring dssm+MIC(FULL) seed 1", remeasured.Output, StringComparison.Ordinal);
        Assert.Contains("2 runs planned, 2 already finished", remeasured.Output, StringComparison.Ordinal);
        Assert.Equal(ownU2I, System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(fullRun))!["OwnSpaceChannels"]!["U2I"]!["Recall@50"]!.GetValue<double>(), 10);
        Assert.Contains("## Serving a +MIC model from the shared space", File.ReadAllText(Path.Combine(outDir, "REPRODUCTION.md")), StringComparison.Ordinal);

        // Another objective is another run (its key hashes every option), never a reused one.
        var third = Run([.. args, "--objective", "inbatch", "--report-only"]);
        Assert.Equal(0, third.Code);
        Assert.Contains("2 runs planned, 0 already finished", third.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Reproduce_Pieces_TrainEachPieceOnce_AndOlderRunKeysStayTheSame()
    {
        // Keys of runs committed under docs/reproduction/beauty-paper before the pieces existed: the new
        // options must not change the hash of runs that leave them off, or every run would retrain.
        var plan = ReproductionPlan.Runs(ReproductionParts.All, ["dssm", "comirec-dr"], [2020], new ReproduceSettings().ToOptions());
        Assert.Contains(plan, p => p.Key == "dssm-full-s2020-9bb992f0e2");
        Assert.Contains(plan, p => p.Key == "comirec-dr-base-s2020-5b8c38906d");
        Assert.Equal(ReproductionPlan.Pieces.Count, plan.Count(p => p.Piece is not null));
        Assert.Equal(plan.Count, plan.Select(p => p.Key).Distinct().Count());

        var outDir = Path.Combine(_dir.Path, "pieces");
        var result = Run(["reproduce", "--synthetic-users", "300", "--synthetic-items", "120", "--seeds", "1", "--only", "pieces", "--epochs", "1", "--batch", "64", "--valid-users", "30", "--support-warmup", "2", "--baselines", "mostpop", "--out", outDir]);
        Assert.True(result.Code == 0, result.Error + result.Output);
        Assert.Equal(1 + ReproductionPlan.Pieces.Count, Directory.GetFiles(Path.Combine(outDir, "runs"), "*.json").Length);
        var report = File.ReadAllText(Path.Combine(outDir, "REPRODUCTION.md"));
        Assert.Contains("## The missing pieces", report, StringComparison.Ordinal);
        foreach (var (name, _) in ReproductionPlan.Pieces)
        {
            Assert.Matches($@"\| {name} \| 1 \| 0\.\d{{4}} ± 0\.0000 \|", report);
        }

        Assert.DoesNotContain("## Table 2", report, StringComparison.Ordinal);
    }

    [Fact]
    public void Reproduce_Pieces_UnderTheInBatchReading_NameTheFullRunForThePiecesItAlreadyReads()
    {
        // Under the in-batch reading, items 2 and 3's other readings (pairwise UU/II, support set from
        // step 0) are the reading itself: the plan trains them once, as full MIC, and the table must say
        // so instead of showing an empty row.
        var outDir = Path.Combine(_dir.Path, "pieces-inbatch");
        var result = Run(["reproduce", "--synthetic-users", "300", "--synthetic-items", "120", "--seeds", "1", "--only", "pieces", "--epochs", "1", "--batch", "64", "--valid-users", "30", "--objective", "inbatch", "--same-side", "pairwise", "--support-warmup", "0", "--baselines", "mostpop", "--out", outDir]);
        Assert.True(result.Code == 0, result.Error + result.Output);
        Assert.Equal(1 + ReproductionPlan.Pieces.Count - 2, Directory.GetFiles(Path.Combine(outDir, "runs"), "*.json").Length);
        var report = File.ReadAllText(Path.Combine(outDir, "REPRODUCTION.md"));
        foreach (var name in new[] { "pairwise-uu-ii", "support-from-step-0" })
        {
            Assert.Contains($"| {name} | 0 | this reading already trains it this way: the full MIC row |", report, StringComparison.Ordinal);
        }

        Assert.Matches(@"\| cross-positives \| 1 \| 0\.\d{4} ± 0\.0000 \|", report);
    }

    [Fact]
    public void Reproduce_Lambda_TrainsEachLambdaBesideVanillaAndTheTableRun()
    {
        var all = ReproductionPlan.Runs(ReproductionParts.All, ["dssm", "youtubednn", "comirec-sa"], [2020], new ReproduceSettings().ToOptions());
        var lambda = all.Where(p => p.Piece?.StartsWith("lambda-", StringComparison.Ordinal) == true).ToList();
        Assert.Equal(2 * ReproductionPlan.Lambdas.Count, lambda.Count);
        Assert.Equal([0.1, 0.1, 0.3, 0.3], lambda.Select(p => p.Options.Mic.Lambda).Order());
        Assert.All(lambda, p => Assert.Equal(MicVariant.Full, p.Variant));
        Assert.Equal(all.Count, all.Select(p => p.Key).Distinct().Count()); // vanilla and λ 0.7 shared with Table 2

        var outDir = Path.Combine(_dir.Path, "lambda");
        var result = Run(["reproduce", "--synthetic-users", "300", "--synthetic-items", "120", "--seeds", "1", "--encoders", "youtubednn", "--only", "lambda", "--epochs", "1", "--batch", "64", "--valid-users", "30", "--support-warmup", "2", "--baselines", "mostpop", "--out", outDir]);
        Assert.True(result.Code == 0, result.Error + result.Output);
        Assert.Equal(2 + ReproductionPlan.Lambdas.Count, Directory.GetFiles(Path.Combine(outDir, "runs"), "*.json").Length);
        var report = File.ReadAllText(Path.Combine(outDir, "REPRODUCTION.md"));
        Assert.Contains("## The encoder question: MIC's weight λ", report, StringComparison.Ordinal);
        Assert.Matches(@"\| youtubednn \| U2I \| 0\.\d{4} ± 0\.0000 \(1\) \| 0\.\d{4} ± 0\.0000 \(1\) \| 0\.\d{4} ± 0\.0000 \(1\) \| 0\.\d{4} ± 0\.0000 \(1\) \|", report);
        Assert.DoesNotContain("comirec-sa |", report, StringComparison.Ordinal);
    }

    [Fact]
    public void EvalModel_TuneMerge_ChoosesWeightsOnValidationUsers_AndScoresTestUsers()
    {
        var checkpoint = Path.Combine(_dir.Path, "ckpt");
        var train = Run(["train", "--synthetic-users", "300", "--synthetic-items", "120", "--encoder", "dssm", "--variant", "full", "--epochs", "1", "--batch", "64", "--dim", "16", "--checkpoint", checkpoint, "--out", Path.Combine(_dir.Path, "train")]);
        Assert.True(train.Code == 0, train.Error + train.Output);

        var refused = Run(["eval", "model", "--checkpoint", checkpoint, "--tune-merge", "--valid"]);
        Assert.NotEqual(0, refused.Code);
        Assert.Contains("--tune-merge", refused.Error + refused.Output, StringComparison.Ordinal);

        var outDir = Path.Combine(_dir.Path, "eval");
        var tuned = Run(["eval", "model", "--checkpoint", checkpoint, "--tune-merge", "--out", outDir]);
        Assert.True(tuned.Code == 0, tuned.Error + tuned.Output);
        Assert.Contains("Merged weights on validation users", tuned.Output, StringComparison.Ordinal);
        Assert.Equal(25, System.Text.RegularExpressions.Regex.Count(tuned.Output, @"\(\d(\.\d+)?, \d(\.\d+)?\) 0\.\d{4}"));
        var saved = File.ReadAllText(Path.Combine(outDir, "results.csv"));
        // The label holds a comma, so the CSV quotes it and every row keeps the header's column count.
        Assert.Matches(@",""dssm\+MIC\(FULL\) \[Merged 1:\d(\.\d+)?:\d(\.\d+)?, tuned\]"",", saved);
        Assert.Single(saved.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.RegularExpressions.Regex.Replace(l, "\"[^\"]*\"", "q").Split(',').Length).Distinct());
    }

    [Fact]
    public void EvalModel_OwnSpace_ScoresWithoutTheHeads_AndRefusesCheckpointsWithoutThem()
    {
        var full = Path.Combine(_dir.Path, "full");
        var vanilla = Path.Combine(_dir.Path, "vanilla");
        foreach (var (dir, variant) in new[] { (full, "full"), (vanilla, "base") })
        {
            var train = Run(["train", "--synthetic-users", "300", "--synthetic-items", "120", "--encoder", "dssm", "--variant", variant, "--epochs", "1", "--batch", "64", "--dim", "16", "--checkpoint", dir, "--out", Path.Combine(_dir.Path, "train-" + variant)]);
            Assert.True(train.Code == 0, train.Error + train.Output);
        }

        var asTrained = Path.Combine(_dir.Path, "shared");
        var own = Path.Combine(_dir.Path, "own");
        Assert.Equal(0, Run(["eval", "model", "--checkpoint", full, "--out", asTrained]).Code);
        var ownRun = Run(["eval", "model", "--checkpoint", full, "--own-space", "--out", own]);
        Assert.True(ownRun.Code == 0, ownRun.Error + ownRun.Output);
        var ownCsv = File.ReadAllText(Path.Combine(own, "results.csv"));
        Assert.Contains("dssm+MIC(FULL) [own space]", ownCsv, StringComparison.Ordinal);
        Assert.NotEqual(File.ReadAllText(Path.Combine(asTrained, "results.csv")).Replace(" [own space]", string.Empty, StringComparison.Ordinal), ownCsv.Replace(" [own space]", string.Empty, StringComparison.Ordinal));

        var refused = Run(["eval", "model", "--checkpoint", vanilla, "--own-space"]);
        Assert.Equal(1, refused.Code);
        Assert.Contains("--own-space", refused.Error, StringComparison.Ordinal);
        Assert.Contains("no UI term", refused.Error, StringComparison.Ordinal);
    }

    private static (int Code, string Error, string Output) Run(params string[] args) => CliRun.InProcess(args);
}
