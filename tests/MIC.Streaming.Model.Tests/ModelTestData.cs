using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Core.Synthetic;
using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;

namespace MIC.Streaming.Model.Tests;

/// <summary>Small planted synthetic data shared by the model tests (seeded, generated in-process).</summary>
internal static class ModelTestData
{
    public static readonly InteractionDataset Small =
        new SyntheticDataGenerator(new SyntheticOptions { Users = 300, Items = 120, Categories = 6, Seed = 3 }).BuildDataset();

    public static readonly FeatureTables SmallTables = new(Small);

    public static TrainOptions Options(string encoder, MicVariant variant, int dim = 16) => new()
    {
        Encoder = encoder,
        EncoderOptions = new EncoderOptions { Dimension = dim, Hidden = 32, Interests = 3, MaxLen = 10 },
        Mic = new MicOptions { Variant = variant, SupportRefreshSteps = 5, SupportNeighbours = 3 },
        BatchSize = 64,
        MaxEpochs = 1,
        Seed = 7,
    };

    public static DatasetSplit SmallSplit => ComiRecSplitter.Split(Small, seed: 1, maxLen: 10);
}

/// <summary>Training progress reported to a callback on the training thread.</summary>
internal sealed class ProgressSink(Action<TrainProgress> report) : IProgress<TrainProgress>
{
    public void Report(TrainProgress value) => report(value);
}
