using System.Diagnostics;
using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Metrics;
using MIC.Streaming.Core.Splits;

namespace MIC.Streaming.Core.Evaluation;

/// <summary>The outcome of evaluating one recommender on one set of users.</summary>
public sealed record EvaluationResult(
    string Model,
    string Dataset,
    string Protocol,
    int Users,
    IReadOnlyDictionary<string, double> Metrics,
    double FitSeconds,
    double EvalSeconds);

/// <summary>
/// Runs a recommender over evaluation cases (in parallel) and averages the metrics per user at
/// every cut-off. A recommender is asked for max(cut-offs) items once per user. By default the ranked
/// list is scored as returned (the ComiRec protocol does not filter history items); with
/// <c>excludeHistory</c> the user's visible history is removed first (RecBole-style).
/// </summary>
public static class Evaluator
{
    public static readonly int[] DefaultCutoffs = [20, 50];

    public delegate int RankFunction(EvalCase evalCase, Span<int> items, Span<float> scores);

    public static EvaluationResult Evaluate(
        IRecommender recommender,
        DatasetSplit split,
        bool onTest = true,
        IReadOnlyList<int>? cutoffs = null,
        IProgress<double>? progress = null,
        bool excludeHistory = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recommender);
        ArgumentNullException.ThrowIfNull(split);
        var fit = Stopwatch.StartNew();
        recommender.Fit(split.Train, split.Dataset.ItemCount, cancellationToken);
        fit.Stop();
        var cases = onTest ? split.Test : split.Valid;
        var (accumulator, seconds) = Run(cases, (c, items, scores) => recommender.Recommend(c.History, items, scores), cutoffs, progress, excludeHistory, cancellationToken);
        return new EvaluationResult(recommender.Name, split.Dataset.Name, split.Protocol, accumulator.Users, accumulator.Means(), fit.Elapsed.TotalSeconds, seconds);
    }

    /// <summary>Scores any ranking function (a baseline, a trained model's channel) on the cases.</summary>
    public static (MetricsAccumulator Metrics, double Seconds) Run(
        IReadOnlyList<EvalCase> cases,
        RankFunction rank,
        IReadOnlyList<int>? cutoffs = null,
        IProgress<double>? progress = null,
        bool excludeHistory = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(rank);
        cutoffs ??= DefaultCutoffs;
        var k = cutoffs.Max();
        // Fixed chunks of consecutive cases, each summed in order and merged in chunk order: the
        // means do not depend on how the thread pool scheduled the chunks (bit for bit, run to run).
        const int Chunk = 64;
        var chunks = new MetricsAccumulator[(cases.Count + Chunk - 1) / Chunk];
        var done = 0;
        var watch = Stopwatch.StartNew();
        Parallel.For(
            0,
            chunks.Length,
            new ParallelOptions { CancellationToken = cancellationToken },
            () => (Items: new int[k], Scores: new float[k]),
            (chunk, _, local) =>
            {
                var acc = new MetricsAccumulator(cutoffs);
                var end = Math.Min(cases.Count, (chunk + 1) * Chunk);
                for (var i = chunk * Chunk; i < end; i++)
                {
                    var c = cases[i];
                    if (c.Targets.Length == 0)
                    {
                        continue;
                    }

                    int n;
                    if (excludeHistory)
                    {
                        // Ask for enough extra items to survive removing every history item.
                        var wide = k + c.History.Length;
                        var items = new int[wide];
                        var got = rank(c, items, new float[wide]);
                        var history = new HashSet<int>(c.History);
                        n = 0;
                        for (var p = 0; p < got && n < k; p++)
                        {
                            if (!history.Contains(items[p]))
                            {
                                local.Items[n++] = items[p];
                            }
                        }
                    }
                    else
                    {
                        n = rank(c, local.Items, local.Scores);
                    }

                    acc.Add(local.Items.AsSpan(0, n), c.Targets);
                }

                chunks[chunk] = acc;
                var d = Interlocked.Add(ref done, end - (chunk * Chunk));
                if (progress is not null)
                {
                    progress.Report((double)d / cases.Count);
                }

                return local;
            },
            _ => { });
        var total = new MetricsAccumulator(cutoffs);
        foreach (var acc in chunks)
        {
            total.Merge(acc);
        }

        progress?.Report(1.0);
        return (total, watch.Elapsed.TotalSeconds);
    }
}
