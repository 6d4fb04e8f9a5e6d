using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Mic;

namespace MIC.Streaming.Model.Training;

/// <summary>Training settings; defaults are the paper's (Adam 1e-3, batch 1024, dim 128, dropout 0.2).</summary>
public sealed record TrainOptions
{
    public string Encoder { get; init; } = "dssm";

    public EncoderOptions EncoderOptions { get; init; } = new();

    public MicOptions Mic { get; init; } = new();

    public int BatchSize { get; init; } = 1024;

    public double LearningRate { get; init; } = 1e-3;

    public int MaxEpochs { get; init; } = 30;

    /// <summary>Stop after this many epochs without a better validation Recall@50 (0 = never stop early).</summary>
    public int Patience { get; init; } = 3;

    /// <summary>Cap on training steps (0 = none); for benchmarks and tests.</summary>
    public int MaxSteps { get; init; }

    public int Seed { get; init; } = 2020;

    /// <summary>Report losses every N steps.</summary>
    public int LogEvery { get; init; } = 50;

    /// <summary>Validation users scored per epoch (0 = all).</summary>
    public int ValidationUsers { get; init; }

    public void Validate()
    {
        if (BatchSize < 2 || LearningRate <= 0 || MaxEpochs < 1 || Patience < 0 || MaxSteps < 0 || LogEvery < 1)
        {
            throw new ArgumentException("Batch ≥ 2, learning rate > 0, epochs ≥ 1, patience ≥ 0, steps ≥ 0, log-every ≥ 1 are required.");
        }

        if (!EncoderRegistry.Names.Contains(Encoder, StringComparer.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"Unknown encoder '{Encoder}'. Known: {string.Join(", ", EncoderRegistry.Names)}.");
        }

        Mic.Validate();
    }
}

/// <summary>What the trainer reports while it runs.</summary>
public sealed record TrainProgress(int Epoch, long Step, double EpochFraction, LossParts? Loss, double ExamplesPerSecond, double? ValidRecall50, string? Message);

/// <summary>The outcome of a training run.</summary>
public sealed record TrainResult(int Epochs, long Steps, double BestValidRecall50, int BestEpoch, double ExamplesPerSecond, double Seconds)
{
    /// <summary>The epochs after which the run was stopped and resumed from its saved state (null: it ran through).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? ResumedAfter { get; init; }
}
