using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Core.Synthetic;
using MIC.Streaming.Faiss;
using MIC.Streaming.Grains;
using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>A small DSSM+MIC trained on planted synthetic data and published to a model store.</summary>
internal static class TestModel
{
    public static InteractionDataset Dataset { get; } =
        new SyntheticDataGenerator(new SyntheticOptions { Users = 400, Items = 150, Categories = 6, Seed = 11 }).BuildDataset();

    /// <summary>Trains the small model and writes it as a checkpoint directory.</summary>
    public static void TrainAndSaveCheckpoint(string directory, int steps = 20)
    {
        var (trainer, manifest) = Train(steps);
        using (trainer)
        {
            Checkpoint.Save(directory, trainer.Model, Dataset, manifest);
        }
    }

    /// <summary>600 users: enough for the sharded-serving equality test's 500 users.</summary>
    public static InteractionDataset LargerDataset { get; } =
        new SyntheticDataGenerator(new SyntheticOptions { Users = 600, Items = 300, Categories = 8, Seed = 12 }).BuildDataset();

    private static (MicTrainer Trainer, CheckpointManifest Manifest) Train(int steps, InteractionDataset? data = null, int seed = 5)
    {
        var dataset = data ?? Dataset;
        var split = ComiRecSplitter.Split(dataset, seed: 1, maxLen: 10);
        var options = new TrainOptions
        {
            Encoder = "dssm",
            EncoderOptions = new EncoderOptions { Dimension = 16, Hidden = 32, MaxLen = 10 },
            Mic = new MicOptions { Variant = MicVariant.Full, SupportRefreshSteps = 10, SupportNeighbours = 3 },
            BatchSize = 64,
            MaxEpochs = 1,
            MaxSteps = steps,
            Seed = seed,
        };
        var trainer = new MicTrainer(new FeatureTables(dataset), options);
        trainer.Train(split);
        return (trainer, new CheckpointManifest { Options = options, Dataset = dataset.Name, Protocol = split.Protocol, Step = trainer.Step, CreatedUtc = DateTimeOffset.UtcNow });
    }

    public static async Task<ModelVersionInfo> TrainAndPublishAsync(IGrainFactory grains, string store, int steps = 40, InteractionDataset? data = null, int shards = 0, int seed = 5)
    {
        var dataset = data ?? Dataset;
        var (trainer, manifest) = Train(steps, dataset, seed);
        using (trainer)
        {
            var split = ComiRecSplitter.Split(dataset, seed: 1, maxLen: 10);
            return await ModelPublisher.PublishAsync(grains, store, trainer.Model, dataset, split.Train, manifest, new IndexBuildOptions { ItemNeighbours = 20 }, "test model", TimeProvider.System, shards);
        }
    }
}
