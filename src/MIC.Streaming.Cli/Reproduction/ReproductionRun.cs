using System.Text.Json;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Model;
using MIC.Streaming.Model.Training;
using MIC.Streaming.Retrieval.Channels;
using TorchSharp;

namespace MIC.Streaming.Cli.Reproduction;

/// <summary>The representation geometry after one epoch (Figure 4 over training).</summary>
public sealed record EpochPoint(int Epoch, double ValidRecall50, RepresentationReport Representation);

/// <summary>Merged-channel weights (U2I = 1) chosen on validation users, and the test metrics of the merged channel with them.</summary>
public sealed record TunedMerge(float WeightU2U2I, float WeightU2I2I, int ValidationUsers, Dictionary<string, double> Test);

/// <summary>
/// A finished run: training outcome, test metrics per channel, geometry at the end and after every
/// epoch, and — for encoders with randomness at inference — the U2I recall of repeated evaluations.
/// </summary>
public sealed record ReproductionRunResult
{
    public required string Key { get; init; }

    public required string Model { get; init; }

    public required string Encoder { get; init; }

    public required string Variant { get; init; }

    /// <summary>The variation of this run: an item-4 piece or a λ of the encoder question (null: none; Tables 2–3 read only those).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Piece { get; init; }

    public required int Seed { get; init; }

    public required TrainOptions Options { get; init; }

    public required TrainResult Train { get; init; }

    /// <summary>Channel (U2I, U2U2I, U2I2I, Merged) → metric name → test value.</summary>
    public required Dictionary<string, Dictionary<string, double>> Channels { get; init; }

    /// <summary>
    /// The same channels with U2I and the channels' user–item cosine served from the own spaces
    /// instead of the shared space the UI term trained (null: the run has no shared space, or it was
    /// not measured yet — <see cref="ReproductionRunner.Remeasure"/> fills it from the saved weights).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, Dictionary<string, double>>? OwnSpaceChannels { get; init; }

    public required RepresentationReport Representation { get; init; }

    public required List<EpochPoint> Epochs { get; init; }

    /// <summary>Support sets' neighbour recall against exact neighbours at the last refresh (null without support sets).</summary>
    public string? SupportRecall { get; init; }

    /// <summary>The merged channel with its U2U2I / U2I2I weights chosen on the validation users (lever runs only; null otherwise).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public TunedMerge? TunedMerge { get; init; }

    /// <summary>Test U2I Recall@50 of the same checkpoint evaluated three times (shows whether inference is deterministic).</summary>
    public required List<double> RepeatedRecall50 { get; init; }

    public DateTimeOffset FinishedUtc { get; init; }
}

/// <summary>
/// Trains and scores one run. Its result file is written only when it is complete; until then the
/// run's training state is saved after every epoch (<c>models/&lt;key&gt;.state</c>), so an interrupted
/// reproduction continues the run from its last finished epoch.
/// </summary>
public static class ReproductionRunner
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string PathOf(string runsDir, ReproductionRunSpec spec) => Path.Combine(runsDir, spec.Key + ".json");

    public static ReproductionRunResult? TryLoad(string runsDir, ReproductionRunSpec spec)
    {
        var path = PathOf(runsDir, spec);
        return File.Exists(path) ? JsonSerializer.Deserialize<ReproductionRunResult>(File.ReadAllText(path), Json) : null;
    }

    public static IReadOnlyList<ReproductionRunResult> LoadAll(string runsDir) => !Directory.Exists(runsDir) ? []
        : [.. Directory.EnumerateFiles(runsDir, "*.json").Order(StringComparer.Ordinal).Select(f => JsonSerializer.Deserialize<ReproductionRunResult>(File.ReadAllText(f), Json)!)];

    public static ReproductionRunResult Run(ReproductionRunSpec spec, InteractionDataset dataset, DatasetSplit split, IReadOnlyList<EvalCase> geometryCases, string runsDir, Action<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(log);
        // Saved after every epoch beside the weights: a stopped reproduction continues this run from
        // its last finished epoch (with the per-epoch measurements taken so far) instead of starting again.
        Directory.CreateDirectory(ModelsDir(runsDir));
        var resume = new TrainingResume(Path.Combine(ModelsDir(runsDir), spec.Key + ".state"));
        var epochs = resume.CallerState is { } saved ? JsonSerializer.Deserialize<List<EpochPoint>>(saved, Json)! : [];
        using var trainer = new MicTrainer(FeatureTables.For(dataset, split.Train, spec.Options.EncoderOptions), spec.Options);
        var lastLog = DateTime.UtcNow;
        var progress = new Commands.SynchronousProgress<TrainProgress>(p =>
        {
            if (p.ValidRecall50 is { } recall)
            {
                // Runs on the training thread between epochs: the model is not being updated.
                var geometry = RepresentationReport.Measure(trainer.Embeddings, geometryCases, spec.Seed);
                epochs.Add(new EpochPoint(p.Epoch, recall, geometry));
                resume.CallerState = JsonSerializer.Serialize(epochs, Json);
                log($"  epoch {p.Epoch}: valid R@50 {recall:F4}, alignment {geometry.Alignment:F3}, uniformity users {geometry.UserUniformity:F3} items {geometry.ItemUniformity:F3} ({p.ExamplesPerSecond:F0} ex/s)");
            }
            else if (p.Message is not null)
            {
                log("  " + p.Message);
            }
            else if (p.Loss is { } l && DateTime.UtcNow - lastLog > TimeSpan.FromMinutes(1))
            {
                lastLog = DateTime.UtcNow;
                log($"  epoch {p.Epoch} step {p.Step} ({p.EpochFraction:P0}): loss {l.Total:F3} (sm {l.Softmax:F3} log {l.Logistic:F3} ui {l.UI:F3} uu {l.UU:F3} ii {l.II:F3}), {p.ExamplesPerSecond:F0} ex/s");
            }
        });
        var train = trainer.Train(split, progress, resume, cancellationToken);
        var embeddings = trainer.Embeddings;
        // One set of exact indexes serves every channel and the repeated U2I evaluations.
        Dictionary<string, Dictionary<string, double>> channels;
        var repeated = new List<double>();
        TunedMerge? tunedMerge = null;
        using (var spaces = embeddings.BuildExactSpaces(split.Train))
        {
            channels = Channels(embeddings, spaces, split);
            repeated.Add(channels["U2I"]["Recall@50"]);
            for (var i = 0; i < 2; i++)
            {
                repeated.Add(ChannelEvaluation.Evaluate(embeddings, spaces, split.Test, ChannelSet.U2I, new ChannelOptions(), [50]).Means()["Recall@50"]);
            }

            if (spec.Piece?.StartsWith("lever-", StringComparison.Ordinal) == true)
            {
                // The same validation users as early stopping (25 weight pairs × the merged channel).
                var valid = spec.Options.ValidationUsers > 0 ? split.Valid.Take(spec.Options.ValidationUsers).ToList() : split.Valid;
                var (best, _) = ChannelEvaluation.TuneMergeWeights(embeddings, spaces, valid, new ChannelOptions());
                var test = ChannelEvaluation.Evaluate(embeddings, spaces, split.Test, ChannelSet.All, best).Means().ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal);
                tunedMerge = new TunedMerge(best.WeightU2U2I, best.WeightU2I2I, valid.Count, test);
                log($"  merged channel, weights chosen on {valid.Count} validation users: U2I 1, U2U2I {best.WeightU2U2I}, U2I2I {best.WeightU2I2I}; test R@50 {test["Recall@50"]:F4}");
            }
        }

        var result = new ReproductionRunResult
        {
            Key = spec.Key,
            Model = spec.Model,
            Encoder = spec.Encoder,
            Variant = spec.Variant.ToString().ToLowerInvariant(),
            Piece = spec.Piece,
            Seed = spec.Seed,
            Options = spec.Options,
            Train = train,
            Channels = channels,
            OwnSpaceChannels = OwnSpaceChannels(trainer.Model, trainer.Tables, spec.Options.EncoderOptions.MaxLen, split),
            Representation = RepresentationReport.Measure(embeddings, split.Test, spec.Seed),
            Epochs = epochs,
            SupportRecall = trainer.SupportRecall,
            RepeatedRecall50 = repeated,
            TunedMerge = tunedMerge,
            FinishedUtc = DateTimeOffset.UtcNow,
        };
        // The weights beside the result (not committed: ~5–20 MB a run), so a finished run can be
        // re-measured later without retraining (another channel setting, another diagnostic).
        trainer.Model.save(Path.Combine(ModelsDir(runsDir), spec.Key + ".bin"));
        Save(runsDir, spec, result);
        resume.Delete();
        return result;
    }

    /// <summary>
    /// Fills what later code measures into finished runs from their saved weights (today: the
    /// own-space serving reading of runs that trained the shared space), without retraining. Runs
    /// whose weights are not here (trained elsewhere, or before weights were kept) are left as they
    /// are. Returns how many runs were re-measured.
    /// </summary>
    public static int Remeasure(IReadOnlyList<ReproductionRunSpec> plan, InteractionDataset dataset, Func<ReproductionRunSpec, DatasetSplit> splitOf, string runsDir, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(splitOf);
        ArgumentNullException.ThrowIfNull(log);
        var count = 0;
        foreach (var spec in plan)
        {
            var weights = Path.Combine(ModelsDir(runsDir), spec.Key + ".bin");
            if (!spec.Options.Mic.TrainsSharedSpace || TryLoad(runsDir, spec) is not { OwnSpaceChannels: null } result || !File.Exists(weights))
            {
                continue;
            }

            var split = splitOf(spec);
            var tables = FeatureTables.For(dataset, split.Train, spec.Options.EncoderOptions);
            using var model = MicTrainer.CreateModel(tables, spec.Options);
            model.load(weights);
            model.to(TorchRuntime.Device);
            log($"  re-measuring {spec.Model} seed {spec.Seed}: channels served from the own spaces");
            Save(runsDir, spec, result with { OwnSpaceChannels = OwnSpaceChannels(model, tables, spec.Options.EncoderOptions.MaxLen, split) });
            count++;
        }

        return count;
    }

    /// <summary>Test metrics of every reported channel (U2I, U2U2I, U2I2I, Merged) over one set of spaces.</summary>
    private static Dictionary<string, Dictionary<string, double>> Channels(ModelEmbeddings embeddings, RetrievalSpaces spaces, DatasetSplit split) =>
        ChannelEvaluation.Reported.ToDictionary(
            c => c.Name,
            c => ChannelEvaluation.Evaluate(embeddings, spaces, split.Test, c.Channels, new ChannelOptions()).Means().ToDictionary(m => m.Key, m => m.Value),
            StringComparer.Ordinal);

    /// <summary>The channels with the shared-space heads bypassed at serving (null when the model has no trained shared space).</summary>
    private static Dictionary<string, Dictionary<string, double>>? OwnSpaceChannels(MicModel model, FeatureTables tables, int maxLen, DatasetSplit split)
    {
        if (!model.TrainsSharedSpace)
        {
            return null;
        }

        model.ServeOwnSpace = true;
        try
        {
            var embeddings = new ModelEmbeddings(model, tables, maxLen);
            using var spaces = embeddings.BuildExactSpaces(split.Train);
            return Channels(embeddings, spaces, split);
        }
        finally
        {
            model.ServeOwnSpace = false;
        }
    }

    private static string ModelsDir(string runsDir) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(runsDir))!, "models");

    private static void Save(string runsDir, ReproductionRunSpec spec, ReproductionRunResult result)
    {
        Directory.CreateDirectory(runsDir);
        var path = PathOf(runsDir, spec);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(result, Json));
        File.Move(temp, path, overwrite: true);
    }
}
