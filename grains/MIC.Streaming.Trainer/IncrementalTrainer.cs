using System.Diagnostics;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Model;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;

namespace MIC.Streaming.Trainer;

/// <summary>What one incremental update did.</summary>
/// <param name="GrowSeconds">Growing the tables to new ids (a new model and optimizer; 0 when nothing grew).</param>
/// <param name="SupportSeconds">Rebuilding the support sets in the current representation space.</param>
/// <param name="StepSeconds">The optimisation steps.</param>
/// <param name="ExamplesPerSecond">Examples per second of the optimisation steps alone.</param>
public sealed record UpdateResult(int NewExamples, int ReplayedExamples, int Steps, bool Grew, double GrowSeconds, double SupportSeconds, double StepSeconds, double ExamplesPerSecond, LossParts? LastLoss)
{
    public double Seconds => GrowSeconds + SupportSeconds + StepSeconds;
}

/// <summary>
/// The model side of the streaming trainer: a <see cref="MicTrainer"/> continued update after
/// update. Before an update, tables grow to the catalog's ids (<see cref="ModelGrowth"/>); then the
/// new examples (for a few passes) mixed with replayed ones are trained in shuffled batches, one
/// dispose scope per step; after it, the support sets are rebuilt in the new representation space.
/// Synchronous and single-threaded: the caller runs it on its training thread.
/// </summary>
public sealed class IncrementalTrainer : IDisposable
{
    private readonly TrainerOptions _options;
    private readonly TrainOptions _train;
    private readonly Random _rng;
    private MicTrainer _trainer;

    public IncrementalTrainer(MicModel model, InteractionDataset dataset, TrainOptions train, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _train = train with { BatchSize = options.BatchSize, LearningRate = options.LearningRate };
        _rng = new Random(options.Seed);
        Tables = new FeatureTables(dataset);
        _trainer = new MicTrainer(model, Tables, _train);
        _trainer.RefreshSupportSets(dataset.Sequences);
    }

    public MicModel Model => _trainer.Model;

    public FeatureTables Tables { get; private set; }

    public TrainOptions TrainOptions => _train;

    public long Steps { get; private set; }

    /// <summary>
    /// Trains on <paramref name="fresh"/> (the new examples) mixed with <paramref name="replay"/>;
    /// <paramref name="dataset"/> is the catalog now (its ids size the tables, its sequences the user support set).
    /// </summary>
    public UpdateResult Update(InteractionDataset dataset, IReadOnlyList<StreamExample> fresh, IReadOnlyList<StreamExample> replay, CancellationToken cancellationToken) =>
        Update(dataset, fresh, replay, _options.EpochsPerUpdate, _options.MaxStepsPerUpdate, cancellationToken);

    /// <summary>As <see cref="Update(InteractionDataset, IReadOnlyList{StreamExample}, IReadOnlyList{StreamExample}, CancellationToken)"/> with explicit passes and step cap (a first model trains longer).</summary>
    public UpdateResult Update(InteractionDataset dataset, IReadOnlyList<StreamExample> fresh, IReadOnlyList<StreamExample> replay, int epochs, int maxSteps, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(fresh);
        ArgumentNullException.ThrowIfNull(replay);
        var watch = Stopwatch.StartNew();
        // The support sets are rebuilt once per update, here, in the representation space the previous
        // update left (nothing trains in between, so it is the rebuild "after" that update, done when
        // it is needed: it then also covers users whose first click arrived since).
        var grew = Grow(dataset);
        var grown = watch.Elapsed;
        _trainer.RefreshSupportSets(dataset.Sequences);
        var supported = watch.Elapsed;
        var all = new List<StreamExample>((fresh.Count * epochs) + replay.Count);
        for (var e = 0; e < epochs; e++)
        {
            all.AddRange(fresh);
        }

        all.AddRange(replay);
        var examples = new TrainingExamples(
            [.. all.Select(e => e.User)],
            [.. all.Select(e => e.History)],
            [.. all.Select(e => e.Target)]);
        var order = Enumerable.Range(0, examples.Count).ToArray();
        _rng.Shuffle(order);
        var batch = _options.BatchSize;
        var steps = 0;
        var trained = 0;
        LossParts? last = null;
        var budget = maxSteps == int.MaxValue ? TimeSpan.MaxValue : _options.MaxUpdateTime; // a first model is not time-boxed
        var stepsWatch = Stopwatch.StartNew();
        for (var start = 0; start + 1 < order.Length && steps < maxSteps && stepsWatch.Elapsed < budget; start += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var len = Math.Min(batch, order.Length - start);
            if (len < 2)
            {
                break;
            }

            var isLast = start + batch + 1 >= order.Length || steps + 1 == maxSteps;
            last = _trainer.TrainStep(examples, order.AsSpan(start, len), isLast) ?? last;
            steps++;
            trained += len;
        }

        Steps += steps;
        var stepSeconds = stepsWatch.Elapsed.TotalSeconds;
        return new UpdateResult(fresh.Count, replay.Count, steps, grew, grown.TotalSeconds, (supported - grown).TotalSeconds, stepSeconds, trained / Math.Max(stepSeconds, 1e-9), last);
    }

    /// <summary>Grows the tables to the catalog's ids when new ones appeared (Adam restarts then).</summary>
    private bool Grow(InteractionDataset dataset)
    {
        var tables = new FeatureTables(dataset);
        if (!ModelGrowth.NeedsGrowth(Tables, tables))
        {
            Tables = tables; // same sizes; category/attribute lookups may still have changed
            return false;
        }

        var grown = ModelGrowth.Grow(_trainer.Model, tables);
        _trainer.Dispose();
        Tables = tables;
        _trainer = new MicTrainer(grown, tables, _train);
        return true;
    }

    public void Dispose() => _trainer.Dispose();
}
