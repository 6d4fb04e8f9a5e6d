using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using MIC.Streaming.Cli.Reproduction;
using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Evaluation;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Model;
using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class ReproduceSettings : ProtocolSettings
{
    [CommandOption("--only <PARTS>")]
    [Description("Comma-separated parts: table2, table3, figure4, pieces, lambda, levers (default: all). figure4 reads Table 3's runs; pieces trains DSSM + full MIC with each of the paper's pieces our MIC lacked; lambda trains YouTubeDNN and ComiRec-SA + full MIC at λ 0.1 and 0.3 (when --encoders has them); levers trains ComiRec-SA with the in-batch and the sampled softmax, each ± MIC, and the in-batch softmax at max-len 50, and tunes the merged channel's weights on validation users.")]
    public string? Only { get; init; }

    [CommandOption("--seeds <LIST>")]
    [Description("Comma-separated training seeds; runs go seed by seed (the user split keeps --seed).")]
    [DefaultValue("2020,2021,2022")]
    public string Seeds { get; init; } = "2020,2021,2022";

    [CommandOption("--encoders <LIST>")]
    [Description("Encoders of Table 2.")]
    [DefaultValue("dssm,youtubednn,comirec-sa,comirec-dr")]
    public string Encoders { get; init; } = "dssm,youtubednn,comirec-sa,comirec-dr";

    [CommandOption("--objective <KIND>")]
    [Description("Base objective: logistic (the paper's basic logistic loss, default), inbatch (+ in-batch softmax) or sampled:N (+ sampled softmax).")]
    [DefaultValue("logistic")]
    public string Objective { get; init; } = "logistic";

    [CommandOption("--same-side <FORM>")]
    [Description("UU/II InfoNCE form: ntxent (the paper's, default) or pairwise.")]
    [DefaultValue("ntxent")]
    public string SameSide { get; init; } = "ntxent";

    [CommandOption("--support-warmup <STEPS>")]
    [Description("Steps before the support set is first built (default 200: one refresh interval).")]
    [DefaultValue(200)]
    public int SupportWarmup { get; init; } = 200;

    [CommandOption("--random-routing")]
    [Description("ComiRec-DR: random routing start on every call (what this project did before) instead of ComiRec's zeros.")]
    public bool RandomRouting { get; init; }

    [CommandOption("--lambda <VALUE>")]
    [Description("λ (paper: 0.7).")]
    [DefaultValue(0.7)]
    public double Lambda { get; init; } = 0.7;

    [CommandOption("--epochs <N>")]
    [Description("Most epochs per run; training stops earlier when validation R@50 stops improving.")]
    [DefaultValue(30)]
    public int Epochs { get; init; } = 30;

    [CommandOption("--patience <N>")]
    [Description("Epochs without a better validation R@50 before stopping.")]
    [DefaultValue(2)]
    public int Patience { get; init; } = 2;

    [CommandOption("--valid-users <N>")]
    [Description("Validation users scored after each epoch (early stopping, geometry over epochs).")]
    [DefaultValue(1000)]
    public int ValidUsers { get; init; } = 1000;

    [CommandOption("--batch <N>")]
    [DefaultValue(1024)]
    [Description("Batch size (paper: 1024).")]
    public int Batch { get; init; } = 1024;

    [CommandOption("--threads <N>")]
    [Description("libtorch intra-op threads (0 = all cores).")]
    [DefaultValue(0)]
    public int Threads { get; init; }

    [CommandOption("--baselines <LIST>")]
    [Description("Baselines beside the models, each tuned on validation users.")]
    [DefaultValue("mostpop,itemcf,usercf,ease")]
    public string Baselines { get; init; } = "mostpop,itemcf,usercf,ease";

    [CommandOption("--max-steps <N>")]
    [Description("Cap on training steps per run (0 = none; for smoke tests — the tables are then not the paper's).")]
    [DefaultValue(0)]
    public int MaxSteps { get; init; }

    [CommandOption("--report-only")]
    [Description("Write the tables from the finished runs without training anything.")]
    public bool ReportOnly { get; init; }

    public ReproductionParts Parts => Only is null ? ReproductionParts.All
        : CliValidation.List(Only).Aggregate(ReproductionParts.None, (p, s) => p | Enum.Parse<ReproductionParts>(s, ignoreCase: true));

    public override ValidationResult Validate()
    {
        var result = base.Validate();
        return !result.Successful ? result : CliValidation.FirstError(
            // Finished runs are reused by a key over the training options only, so the scoring is fixed: test users, lists as returned (ComiRec).
            OnValid ? ValidationResult.Error("--valid is not supported by reproduce: its tables are always on the test users (validation users choose settings and epochs).") : null,
            ExcludeHistory ? ValidationResult.Error("--exclude-history is not supported by reproduce: it scores lists as returned, as ComiRec and the paper do.") : null,
            Only is not null ? CliValidation.OneOfEach("--only", Only, ["table2", "table3", "figure4", "pieces", "lambda", "levers"]) : null,
            CliValidation.Integers("--seeds", Seeds),
            CliValidation.OneOfEach("--encoders", Encoders, [.. EncoderRegistry.Names]),
            TrainSettings.ParseObjective(Objective) is null ? ValidationResult.Error($"--objective '{Objective}' is unknown; use logistic, inbatch or sampled:N with N ≥ 1.") : null,
            SameSide is not ("ntxent" or "pairwise") ? ValidationResult.Error($"--same-side '{SameSide}' is unknown; use ntxent or pairwise.") : null,
            CliValidation.AtLeast("--support-warmup", SupportWarmup, 0),
            CliValidation.AtLeast("--lambda", Lambda, 0),
            CliValidation.AtLeast("--epochs", Epochs, 1),
            CliValidation.AtLeast("--patience", Patience, 0),
            CliValidation.AtLeast("--valid-users", ValidUsers, 0),
            CliValidation.AtLeast("--batch", Batch, 2),
            CliValidation.AtLeast("--threads", Threads, 0),
            CliValidation.AtLeast("--max-steps", MaxSteps, 0),
            CliValidation.OneOfEach("--baselines", Baselines, [.. Recommenders.Names]));
    }

    public TrainOptions ToOptions()
    {
        var (softmax, sampled) = TrainSettings.ParseObjective(Objective)!.Value;
        return new TrainOptions
        {
            EncoderOptions = new EncoderOptions { MaxLen = MaxLen, RandomRoutingStart = RandomRouting },
            Mic = new MicOptions
            {
                Lambda = Lambda,
                SoftmaxWeight = softmax,
                SampledNegatives = sampled,
                SameSideForm = SameSide == "ntxent" ? ContrastiveForm.NtXent : ContrastiveForm.Pairwise,
                SupportWarmupSteps = SupportWarmup,
            },
            BatchSize = Batch,
            MaxEpochs = Epochs,
            Patience = Patience,
            ValidationUsers = ValidUsers,
            MaxSteps = MaxSteps,
        };
    }
}

/// <summary>
/// <c>mic reproduce</c>: the paper's Tables 2–3 and Figure 4 on one dataset, resumable — each finished
/// run is a file under <c>--out</c>/runs and is never trained again, and a run in progress continues
/// from its last finished epoch; the tables are rewritten after every run, so an interrupted
/// reproduction leaves complete tables of what finished.
/// </summary>
public sealed class ReproduceCommand : Command<ReproduceSettings>
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public override int Execute(CommandContext context, ReproduceSettings settings, CancellationToken cancellationToken)
    {
        TorchRuntime.Initialize(new TorchOptions { Threads = settings.Threads });
        var dataset = CliData.Load(settings);
        var split = CliData.Split(dataset, settings);
        CliData.PrintSplit(dataset, split);
        var outDir = settings.OutDir("reproduce");
        var runsDir = Path.Combine(outDir, "runs");
        var seeds = CliValidation.List(settings.Seeds).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var plan = ReproductionPlan.Runs(settings.Parts, CliValidation.List(settings.Encoders), seeds, settings.ToOptions());
        // --report-only never trains, baselines included (EASE on Sports takes minutes per λ).
        var baselines = settings.ReportOnly && !File.Exists(Path.Combine(outDir, "baselines.json")) ? [] : Baselines(outDir, split, settings, cancellationToken);
        // The max-len lever reads longer histories: it is scored on the same users with theirs cut at its own length.
        var splits = new ReproductionSplits(split, settings.MaxLen, maxLen => CliData.Split(dataset, settings, maxLen));
        var done = plan.Count(p => File.Exists(ReproductionRunner.PathOf(runsDir, p)));
        AnsiConsole.MarkupLine(Markup.Escape($"{plan.Count} runs planned, {done} already finished under {runsDir}."));
        var report = ReproductionReport.Write(outDir, dataset.Name, settings.Parts, plan, ReproductionRunner.LoadAll(runsDir), baselines);
        if (!settings.ReportOnly)
        {
            // Finished runs whose weights are here get what later code measures (minutes, not a retraining).
            if (ReproductionRunner.Remeasure(plan, dataset, splits.For, runsDir, line => AnsiConsole.MarkupLine(Markup.Escape(line))) > 0)
            {
                report = ReproductionReport.Write(outDir, dataset.Name, settings.Parts, plan, ReproductionRunner.LoadAll(runsDir), baselines);
            }

            var index = 0;
            foreach (var spec in plan)
            {
                index++;
                if (File.Exists(ReproductionRunner.PathOf(runsDir, spec)))
                {
                    continue;
                }

                AnsiConsole.MarkupLine(Markup.Escape($"[{DateTime.Now:HH:mm:ss}] run {index} of {plan.Count}: {spec.Model} seed {spec.Seed} ({spec.Key})"));
                var runSplit = splits.For(spec);
                var geometryCases = runSplit.Valid.Take(settings.ValidUsers == 0 ? runSplit.Valid.Count : settings.ValidUsers).ToList();
                var result = ReproductionRunner.Run(spec, dataset, runSplit, geometryCases, runsDir, line => AnsiConsole.MarkupLine(Markup.Escape(line)), cancellationToken);
                AnsiConsole.MarkupLine(Markup.Escape($"  done: {result.Train.Epochs} epochs (best {result.Train.BestEpoch}), test U2I R@50 {result.Channels["U2I"]["Recall@50"]:F4}, merged {result.Channels["Merged"]["Recall@50"]:F4}"));
                report = ReproductionReport.Write(outDir, dataset.Name, settings.Parts, plan, ReproductionRunner.LoadAll(runsDir), baselines);
            }
        }

        AnsiConsole.MarkupLine(Markup.Escape($"Wrote {report} (tables), runs.csv, table2.csv and Figure 4's PNGs under {outDir}."));
        return 0;
    }

    /// <summary>The --baselines (MostPop and the tuned ItemCF, UserCF, EASE by default) on the same split, computed once per output folder.</summary>
    private static List<TunedBaseline> Baselines(string outDir, DatasetSplit split, ReproduceSettings settings, CancellationToken cancellationToken)
    {
        var path = Path.Combine(outDir, "baselines.json");
        if (File.Exists(path))
        {
            return JsonSerializer.Deserialize<List<TunedBaseline>>(File.ReadAllText(path), Json)!;
        }

        var baselines = new List<TunedBaseline>();
        foreach (var name in CliValidation.List(settings.Baselines))
        {
            TunedBaseline? tuned = null;
            CliProgress.Run($"Baseline {name} (setting tuned on validation users)", _ =>
                tuned = EvalBaselineCommand.TryRun(Recommenders.Spec(name), split, tune: true, fixedValue: null, onTest: true, excludeHistory: false, cancellationToken));
            if (tuned is not null)
            {
                baselines.Add(tuned);
            }
        }

        Directory.CreateDirectory(outDir);
        File.WriteAllText(path, JsonSerializer.Serialize(baselines, Json));
        return baselines;
    }
}
