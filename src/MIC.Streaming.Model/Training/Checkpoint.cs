using System.Text.Json;
using System.Text.Json.Serialization;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Model.Encoders;
using TorchSharp;

namespace MIC.Streaming.Model.Training;

/// <summary>What a checkpoint holds besides the weights.</summary>
public sealed record CheckpointManifest
{
    public int FormatVersion { get; init; } = 1;

    public required TrainOptions Options { get; init; }

    public required string Dataset { get; init; }

    public required string Protocol { get; init; }

    public int SplitSeed { get; init; }

    public long Step { get; init; }

    public int Epochs { get; init; }

    public double BestValidRecall50 { get; init; }

    public DateTimeOffset CreatedUtc { get; init; }
}

/// <summary>
/// A checkpoint directory: <c>weights.bin</c> (TorchSharp state dict), <c>manifest.json</c>
/// (encoder, every option, split, step) and <c>dataset.micds</c> (the id maps and item/user fields
/// the weights are indexed by, and the sequences for U2U2I). Loading rebuilds an identical model.
/// </summary>
public static class Checkpoint
{
    public const string WeightsFile = "weights.bin";
    public const string ManifestFile = "manifest.json";
    public const string DatasetFile = "dataset.micds";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new JsonStringEnumConverter() } };

    public static void Save(string directory, MicModel model, InteractionDataset dataset, CheckpointManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        Directory.CreateDirectory(directory);
        model.save(Path.Combine(directory, WeightsFile));
        DatasetSnapshot.Save(dataset, Path.Combine(directory, DatasetFile));
        File.WriteAllText(Path.Combine(directory, ManifestFile), JsonSerializer.Serialize(manifest, Json));
    }

    public static (MicModel Model, FeatureTables Tables, InteractionDataset Dataset, CheckpointManifest Manifest) Load(string directory)
    {
        var manifestPath = Path.Combine(directory, ManifestFile);
        if (!File.Exists(manifestPath))
        {
            throw new FileNotFoundException($"{directory} is not a checkpoint: {ManifestFile} is missing.", manifestPath);
        }

        var manifest = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllText(manifestPath), Json)
            ?? throw new InvalidDataException($"{manifestPath} is empty.");
        if (manifest.Options.EncoderOptions.NeedsTrainFields)
        {
            throw new NotSupportedException($"{manifestPath}: the user-id and item-user fields are offline reproduction options; a checkpoint with them cannot be loaded.");
        }

        var dataset = DatasetSnapshot.Load(Path.Combine(directory, DatasetFile));
        var tables = new FeatureTables(dataset);
        var encoder = EncoderRegistry.Create(manifest.Options.Encoder, tables, manifest.Options.EncoderOptions);
        var model = new MicModel(encoder, manifest.Options.Mic);
        model.load(Path.Combine(directory, WeightsFile));
        model.to(TorchRuntime.Device);
        model.eval();
        return (model, tables, dataset, manifest);
    }
}
