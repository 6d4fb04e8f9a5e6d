using MIC.Streaming.Core.Evaluation;
using MIC.Streaming.Core.Metrics;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Retrieval.Channels;
using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Model.Training;

/// <summary>Scores a model's channels on evaluation users with the same channel code the online system runs.</summary>
public static class ChannelEvaluation
{
    /// <summary>The channel configurations a report lists: each channel alone, then all merged.</summary>
    public static IReadOnlyList<(string Name, ChannelSet Channels)> Reported { get; } =
    [
        ("U2I", ChannelSet.U2I),
        ("U2U2I", ChannelSet.U2U2I),
        ("U2I2I", ChannelSet.U2I2I),
        ("Merged", ChannelSet.All),
    ];

    /// <summary>Evaluates the model's channels on the split's test (or validation) users.</summary>
    /// <param name="buildSpaces">Builds the indexes from (item relevance, item own, user own, histories); exact when null.</param>
    public static List<EvaluationResult> EvaluateSplit(ModelEmbeddings embeddings, DatasetSplit split, string modelName, IEnumerable<(string Name, ChannelSet Channels)> channels, ChannelOptions options, bool onTest = true, bool excludeHistory = false, Func<EmbeddingMatrix, EmbeddingMatrix, EmbeddingMatrix, Core.Data.SequenceTable, RetrievalSpaces>? buildSpaces = null)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(channels);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        RetrievalSpaces spaces;
        if (buildSpaces is null)
        {
            spaces = embeddings.BuildExactSpaces(split.Train);
        }
        else
        {
            var (own, rel) = embeddings.Items();
            spaces = buildSpaces(rel, own, embeddings.Users(split.Train), split.Train);
        }

        using var _ = spaces;
        var build = watch.Elapsed.TotalSeconds;
        var results = new List<EvaluationResult>();
        foreach (var (name, set) in channels)
        {
            watch.Restart();
            var metrics = Evaluate(embeddings, spaces, onTest ? split.Test : split.Valid, set, options, excludeHistory: excludeHistory);
            results.Add(new EvaluationResult($"{modelName} [{name}]", split.Dataset.Name, split.Protocol, metrics.Users, metrics.Means(), build, watch.Elapsed.TotalSeconds));
        }

        return results;
    }

    /// <summary>The merger weights tried for U2U2I and U2I2I (U2I stays 1) by <see cref="TuneMergeWeights"/>.</summary>
    public static IReadOnlyList<float> MergeWeightGrid { get; } = [0f, 0.25f, 0.5f, 1f, 2f];

    /// <summary>
    /// Chooses the merged channel's weights on validation users: every (U2U2I, U2I2I) pair of
    /// <see cref="MergeWeightGrid"/> with U2I at 1, scored by Recall@50 on <paramref name="validation"/>
    /// (the first setting wins ties). Returns the chosen options and every pair's score.
    /// </summary>
    public static (ChannelOptions Best, List<(float U2U2I, float U2I2I, double Recall50)> Trials) TuneMergeWeights(ModelEmbeddings embeddings, RetrievalSpaces spaces, IReadOnlyList<EvalCase> validation, ChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var trials = new List<(float, float, double)>();
        var best = options;
        var bestScore = double.NegativeInfinity;
        foreach (var uu in MergeWeightGrid)
        {
            foreach (var ii in MergeWeightGrid)
            {
                var candidate = options with { WeightU2I = 1f, WeightU2U2I = uu, WeightU2I2I = ii };
                var recall = Evaluate(embeddings, spaces, validation, ChannelSet.All, candidate, [50]).Means()["Recall@50"];
                trials.Add((uu, ii, recall));
                if (recall > bestScore)
                {
                    (best, bestScore) = (candidate, recall);
                }
            }
        }

        return (best, trials);
    }

    public static MetricsAccumulator Evaluate(ModelEmbeddings embeddings, RetrievalSpaces spaces, IReadOnlyList<EvalCase> cases, ChannelSet channels, ChannelOptions options, IReadOnlyList<int>? cutoffs = null, bool excludeHistory = false)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(cases);
        var queries = embeddings.Encode(cases.Select(c => (ReadOnlyMemory<int>)c.History).ToArray(), cases.Select(c => c.User).ToArray());
        var byUser = new Dictionary<EvalCase, UserQuery>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < cases.Count; i++)
        {
            byUser[cases[i]] = queries[i] with { UserIndex = null }; // evaluation users are not in the user index
        }

        var (metrics, _) = Evaluator.Run(
            cases,
            (c, items, scores) =>
            {
                var found = MultiChannelRetriever.Retrieve(spaces, byUser[c], items.Length, channels, options);
                for (var i = 0; i < found.Length; i++)
                {
                    items[i] = found[i].Item;
                    scores[i] = found[i].Score;
                }

                return found.Length;
            },
            cutoffs,
            excludeHistory: excludeHistory);
        return metrics;
    }
}
