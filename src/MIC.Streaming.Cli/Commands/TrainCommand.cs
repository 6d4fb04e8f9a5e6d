using System.ComponentModel;
using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Evaluation;
using MIC.Streaming.Model;
using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using MIC.Streaming.Retrieval.Channels;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public class TrainSettings : ProtocolSettings
{
    [CommandOption("--encoder <NAME>")]
    [Description("dssm | youtubednn | comirec-sa | comirec-dr.")]
    [DefaultValue("dssm")]
    public string Encoder { get; init; } = "dssm";

    [CommandOption("--variant <NAME>")]
    [Description("base (vanilla encoder) | ui | uu | ii | full (MIC with all three contrastive channels).")]
    [DefaultValue("full")]
    public string Variant { get; init; } = "full";

    [CommandOption("--epochs <N>")]
    [Description("Maximum epochs (early stopping on validation Recall@50 may stop sooner).")]
    [DefaultValue(30)]
    public int Epochs { get; init; } = 30;

    [CommandOption("--patience <N>")]
    [Description("Epochs without a better validation Recall@50 before stopping (0 = never).")]
    [DefaultValue(3)]
    public int Patience { get; init; } = 3;

    [CommandOption("--max-steps <N>")]
    [Description("Stop after N optimisation steps (0 = no cap).")]
    [DefaultValue(0)]
    public int MaxSteps { get; init; }

    [CommandOption("--batch <N>")]
    [Description("Batch size (paper: 1024).")]
    [DefaultValue(1024)]
    public int Batch { get; init; } = 1024;

    [CommandOption("--dim <N>")]
    [Description("Embedding dimension (paper: 128).")]
    [DefaultValue(128)]
    public int Dim { get; init; } = 128;

    [CommandOption("--lr <RATE>")]
    [Description("Adam learning rate (paper: 1e-3).")]
    [DefaultValue(1e-3)]
    public double LearningRate { get; init; } = 1e-3;

    [CommandOption("--lambda <VALUE>")]
    [Description("λ, weight of the contrastive terms (paper: 0.7).")]
    [DefaultValue(0.7)]
    public double Lambda { get; init; } = 0.7;

    [CommandOption("--tau <VALUE>")]
    [Description("Temperature τ of every cosine softmax (paper: 0.1).")]
    [DefaultValue(0.1)]
    public double Tau { get; init; } = 0.1;

    [CommandOption("--logistic-weight <VALUE>")]
    [Description("Weight of the basic logistic user–item loss.")]
    [DefaultValue(1.0)]
    public double LogisticWeight { get; init; } = 1.0;

    [CommandOption("--objective <KIND>")]
    [Description("Base objective beside the logistic loss: inbatch (softmax over the batch's items), sampled:N (softmax over N catalogue items per step) or logistic (the logistic loss alone, the paper's base).")]
    [DefaultValue("inbatch")]
    public string Objective { get; init; } = "inbatch";

    [CommandOption("--same-side <FORM>")]
    [Description("Form of the user–user and item–item InfoNCE: pairwise (N−1 negatives each way) or ntxent (2(N−1), the UI term's and the paper's form).")]
    [DefaultValue("pairwise")]
    public string SameSide { get; init; } = "pairwise";

    [CommandOption("--support-warmup <STEPS>")]
    [Description("Training steps before the support set is first built (0 = at step 0 from the untrained model).")]
    [DefaultValue(0)]
    public int SupportWarmup { get; init; }

    [CommandOption("--random-routing")]
    [Description("ComiRec-DR: start routing from random logits on every call (MIND's start) instead of zeros (ComiRec's).")]
    public bool RandomRouting { get; init; }

    [CommandOption("--interests <K>")]
    [Description("Interests per user for ComiRec encoders.")]
    [DefaultValue(4)]
    public int Interests { get; init; } = 4;

    [CommandOption("--masked-fields <K>")]
    [Description("Fields masked per instance in a perturbed view.")]
    [DefaultValue(1)]
    public int MaskedFields { get; init; } = 1;

    [CommandOption("--neighbours <K>")]
    [Description("Support set: nearest neighbours that are candidate positives.")]
    [DefaultValue(10)]
    public int Neighbours { get; init; } = 10;

    [CommandOption("--clusters <K>")]
    [Description("Support set: k-means clusters whose members are alternative positives (0 = off).")]
    [DefaultValue(0)]
    public int Clusters { get; init; }

    [CommandOption("--no-support-set")]
    [Description("Do not mine positives from the support set.")]
    public bool NoSupportSet { get; init; }

    [CommandOption("--train-seed <SEED>")]
    [Description("Seed of model initialisation and example order.")]
    [DefaultValue(2020)]
    public int TrainSeed { get; init; } = 2020;

    [CommandOption("--threads <N>")]
    [Description("libtorch intra-op threads (0 = all cores).")]
    [DefaultValue(0)]
    public int Threads { get; init; }

    [CommandOption("--valid-users <N>")]
    [Description("Validation users scored after each epoch (0 = all).")]
    [DefaultValue(0)]
    public int ValidUsers { get; init; }

    [CommandOption("--index <KIND>")]
    [Description("Indexes behind the channels at evaluation: exact (managed SIMD), auto (exact below 20k vectors, else Faiss IVF tuned to recall@50 ≥ 0.95), or ivf (Faiss IVF at any size).")]
    [DefaultValue("exact")]
    public string Index { get; init; } = "exact";

    [CommandOption("--resume <FILE>")]
    [Description("Save the training state to FILE after every epoch, and continue from it when it holds the state of an earlier run with the same options (stopped or killed); removed when training ends.")]
    public string? ResumeFile { get; init; }

    [CommandOption("--checkpoint <DIR>")]
    [Description("Where to write the checkpoint (weights + manifest + dataset).")]
    public string? CheckpointDir { get; init; }

    public override ValidationResult Validate()
    {
        var result = base.Validate();
        if (!result.Successful)
        {
            return result;
        }

        if (!EncoderRegistry.Names.Contains(Encoder, StringComparer.OrdinalIgnoreCase))
        {
            return ValidationResult.Error($"--encoder '{Encoder}' is unknown; use {string.Join(", ", EncoderRegistry.Names)}.");
        }

        if (!Enum.TryParse<MicVariant>(Variant, ignoreCase: true, out _))
        {
            return ValidationResult.Error($"--variant '{Variant}' is unknown; use base, ui, uu, ii or full.");
        }

        if (ParseObjective(Objective) is null)
        {
            return ValidationResult.Error($"--objective '{Objective}' is unknown; use inbatch, logistic or sampled:N with N ≥ 1.");
        }

        if (!Enum.TryParse<ContrastiveForm>(SameSide, ignoreCase: true, out _) || int.TryParse(SameSide, out _))
        {
            return ValidationResult.Error($"--same-side '{SameSide}' is unknown; use pairwise or ntxent.");
        }

        if (Index is not ("exact" or "auto" or "ivf"))
        {
            return ValidationResult.Error($"--index '{Index}' is unknown; use exact, auto or ivf.");
        }

        if (ResumeFile is not null && (string.IsNullOrWhiteSpace(ResumeFile) || Directory.Exists(ResumeFile)
            || !Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(ResumeFile)))))
        {
            return ValidationResult.Error($"--resume '{ResumeFile}' must be a file in an existing folder.");
        }

        return CliValidation.FirstError(
            CliValidation.AtLeast("--batch", Batch, 2),
            CliValidation.AtLeast("--dim", Dim, 2),
            CliValidation.AtLeast("--epochs", Epochs, 1),
            CliValidation.AtLeast("--patience", Patience, 0),
            CliValidation.AtLeast("--max-steps", MaxSteps, 0),
            CliValidation.AtLeast("--interests", Interests, 1),
            CliValidation.AtLeast("--masked-fields", MaskedFields, 0),
            CliValidation.AtLeast("--neighbours", Neighbours, 1),
            CliValidation.AtLeast("--clusters", Clusters, 0),
            CliValidation.AtLeast("--support-warmup", SupportWarmup, 0),
            CliValidation.AtLeast("--threads", Threads, 0),
            CliValidation.AtLeast("--valid-users", ValidUsers, 0),
            CliValidation.Positive("--lr", LearningRate),
            CliValidation.Positive("--tau", Tau),
            CliValidation.AtLeast("--lambda", Lambda, 0),
            CliValidation.AtLeast("--logistic-weight", LogisticWeight, 0));
    }

    /// <summary>--objective → (softmax weight, sampled negatives), or null when not understood.</summary>
    public static (double SoftmaxWeight, int SampledNegatives)? ParseObjective(string value)
    {
        var v = value.Trim().ToLowerInvariant();
        if (v == "inbatch")
        {
            return (1, 0);
        }

        if (v == "logistic")
        {
            return (0, 0);
        }

        return v.StartsWith("sampled:", StringComparison.Ordinal)
            && int.TryParse(v["sampled:".Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1
            ? (1, n)
            : null;
    }

    public TrainOptions ToOptions() => new()
    {
        Encoder = Encoder.ToLowerInvariant(),
        EncoderOptions = new EncoderOptions { Dimension = Dim, Interests = Interests, MaxLen = MaxLen, RandomRoutingStart = RandomRouting },
        Mic = new MicOptions
        {
            Variant = Enum.Parse<MicVariant>(Variant, ignoreCase: true),
            Lambda = Lambda,
            Temperature = Tau,
            LogisticWeight = LogisticWeight,
            SoftmaxWeight = ParseObjective(Objective)!.Value.SoftmaxWeight,
            SampledNegatives = ParseObjective(Objective)!.Value.SampledNegatives,
            SameSideForm = Enum.Parse<ContrastiveForm>(SameSide, ignoreCase: true),
            SupportWarmupSteps = SupportWarmup,
            MaskedFields = MaskedFields,
            SupportNeighbours = Neighbours,
            SupportClusters = Clusters,
            UseSupportSet = !NoSupportSet,
        },
        BatchSize = Batch,
        LearningRate = LearningRate,
        MaxEpochs = Epochs,
        Patience = Patience,
        MaxSteps = MaxSteps,
        Seed = TrainSeed,
        ValidationUsers = ValidUsers,
    };
}

/// <summary><c>mic train</c>: train an encoder (vanilla or +MIC), evaluate every channel, write a checkpoint.</summary>
public sealed class TrainCommand : Command<TrainSettings>
{
    public override int Execute(CommandContext context, TrainSettings settings, CancellationToken cancellationToken)
    {
        TorchRuntime.Initialize(new TorchOptions { Threads = settings.Threads });
        var options = settings.ToOptions();
        // Read (and checked against these options) before any data is loaded.
        TrainingResume? resume = null;
        try
        {
            resume = settings.ResumeFile is null ? null : new TrainingResume(settings.ResumeFile);
            resume?.EnsureMatches(options);
        }
        catch (InvalidDataException ex)
        {
            throw new CliException($"--resume '{settings.ResumeFile}': {ex.Message}");
        }

        var dataset = CliData.Load(settings);
        var split = CliData.Split(dataset, settings);
        CliData.PrintSplit(dataset, split);
        var (result, embeddings, trainer) = ModelRuns.Train(dataset, split, options, cancellationToken, resume);
        using (trainer)
        {
            if (result.ResumedAfter is { } after)
            {
                AnsiConsole.MarkupLine($"Resumed after epoch(s) {string.Join(", ", after)} from {Markup.Escape(resume!.Path)}.");
            }

            AnsiConsole.MarkupLine($"Trained {result.Epochs} epoch(s), {result.Steps} steps in {result.Seconds:F0}s ({result.ExamplesPerSecond:F0} examples/s); best valid Recall@50 {result.BestValidRecall50:F4} at epoch {result.BestEpoch}.");
            var name = ModelRuns.Name(options);
            var results = ChannelEvaluation.EvaluateSplit(embeddings, split, name, ChannelEvaluation.Reported, new ChannelOptions(), onTest: !settings.OnValid, excludeHistory: settings.ExcludeHistory, buildSpaces: ModelRuns.SpacesFor(settings.Index));
            results.AddRange(EvalBaselineCommand.Run(settings, dataset, ["mostpop", "itemcf"], tune: true, fixedValues: null, cancellationToken).Select(t => t.Result with { Model = t.Label }));
            AnsiConsole.Write(CliData.ResultsTable(results, Evaluator.DefaultCutoffs));
            CliData.Save(settings.OutDir("train"), results);
            if (settings.CheckpointDir is not null)
            {
                Checkpoint.Save(settings.CheckpointDir, trainer.Model, dataset, new CheckpointManifest
                {
                    Options = options,
                    Dataset = dataset.Name,
                    Protocol = split.Protocol,
                    SplitSeed = settings.Seed,
                    Step = result.Steps,
                    Epochs = result.Epochs,
                    BestValidRecall50 = result.BestValidRecall50,
                    CreatedUtc = DateTimeOffset.UtcNow,
                });
                AnsiConsole.MarkupLine($"Checkpoint written to [green]{Markup.Escape(settings.CheckpointDir)}[/].");
            }

            resume?.Delete(); // kept until the results and the checkpoint are written
        }

        return 0;
    }
}

/// <summary>Training with a live progress bar, shared by train / experiment / demo.</summary>
internal static class ModelRuns
{
    /// <summary>The index builder for --index (null = exact, the channels' default).</summary>
    public static Func<MIC.Streaming.Retrieval.Index.EmbeddingMatrix, MIC.Streaming.Retrieval.Index.EmbeddingMatrix, MIC.Streaming.Retrieval.Index.EmbeddingMatrix, MIC.Streaming.Core.Data.SequenceTable, RetrievalSpaces>? SpacesFor(string index) => index switch
    {
        "exact" => null,
        _ => (rel, own, users, histories) =>
        {
            var (spaces, reports) = MIC.Streaming.Faiss.SpacesBuilder.Build(rel, own, users, histories, new MIC.Streaming.Faiss.IndexBuildOptions { ExactBelow = index == "ivf" ? 0 : 20_000 });
            AnsiConsole.MarkupLine(Markup.Escape("Indexes: " + string.Join("; ", reports.Select(r => $"{r.Key} {r.Value.Spec} nprobe {r.Value.Nprobe?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"} recall@50 {r.Value.RecallAtK:F3}"))));
            return spaces;
        },
    };

    public static string Name(TrainOptions o) => o.Mic.Variant == MicVariant.Base ? o.Encoder : $"{o.Encoder}+MIC({o.Mic.Variant.ToString().ToUpperInvariant()})";

    public static (TrainResult Result, ModelEmbeddings Embeddings, MicTrainer Trainer) Train(MIC.Streaming.Core.Data.InteractionDataset dataset, MIC.Streaming.Core.Splits.DatasetSplit split, TrainOptions options, CancellationToken cancellationToken, TrainingResume? resume = null)
    {
        var trainer = new MicTrainer(new FeatureTables(dataset), options);
        TrainResult? result = null;
        CliProgress.Run(Name(options), bar =>
        {
            var progress = new SynchronousProgress<TrainProgress>(p =>
            {
                if (p.Loss is { } l)
                {
                    bar.Description = ($"{Name(options)} ep {p.Epoch} step {p.Step} loss {l.Total:F3} (sm {l.Softmax:F3} log {l.Logistic:F3} ui {l.UI:F3} uu {l.UU:F3} ii {l.II:F3}) {p.ExamplesPerSecond:F0} ex/s");
                }

                if (p.Message is not null)
                {
                    CliProgress.Note(p.Message);
                }

                bar.Report(p.EpochFraction);
            });
            result = trainer.Train(split, progress, resume, cancellationToken);
        });
        return (result!, trainer.Embeddings, trainer);
    }
}

/// <summary>IProgress that reports on the calling thread (training must not hop threads).</summary>
internal sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
