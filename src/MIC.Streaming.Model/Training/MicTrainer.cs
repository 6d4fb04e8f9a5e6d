using System.Diagnostics;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Retrieval.Channels;
using MIC.Streaming.Retrieval.Index;
using TorchSharp;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Training;

/// <summary>Accumulated time of training steps by phase (Stopwatch ticks): batch build + zero_grad, forward (loss), backward, optimizer.</summary>
public readonly record struct StepPhaseTimes(long Steps, long Batch, long Forward, long Backward, long Optimizer)
{
    public StepPhaseTimes Add(long batch, long forward, long backward, long optimizer) =>
        new(Steps + 1, Batch + batch, Forward + forward, Backward + backward, Optimizer + optimizer);

    /// <summary>Mean milliseconds per step of a phase's ticks.</summary>
    public double MeanMs(long ticks) => Steps == 0 ? 0 : ticks * 1000.0 / Stopwatch.Frequency / Steps;
}

/// <summary>
/// Trains a <see cref="MicModel"/> on a split: Adam, shuffled next-item examples, one dispose scope
/// per step (no await anywhere: scopes and grad mode are thread-local), support sets refreshed every
/// N steps, validation Recall@50 (U2I channel) after every epoch with early stopping on it; the best
/// epoch's weights are restored at the end. Runs synchronously on the calling thread. Given a
/// <see cref="TrainingResume"/>, it saves the run after every epoch and continues a saved run.
/// </summary>
public sealed partial class MicTrainer : IDisposable
{
    private readonly TrainOptions _options;
    private readonly Random _rng;
    private readonly SupportSet? _userSupport;
    private readonly SupportSet? _itemSupport;
    private readonly CrossSupportSet? _crossSupport;
    private int[] _userRow = [];

    public MicTrainer(FeatureTables tables, TrainOptions options)
        : this(CreateModel(tables, options), tables, options)
    {
    }

    /// <summary>
    /// Continues training <paramref name="model"/> (taken over: disposed with this trainer), e.g. a
    /// checkpoint or a model grown for new ids. Adam starts with fresh moments.
    /// </summary>
    public MicTrainer(MicModel model, FeatureTables tables, TrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        tables.EnsureMatches(options.EncoderOptions);
        _options = options;
        Tables = tables;
        _rng = new Random(options.Seed);
        Model = model;
        Model.to(TorchRuntime.Device);
        var mic = options.Mic;
        if (mic.UseSupportSet && mic.Lambda > 0)
        {
            if (mic.UsesUU)
            {
                _userSupport = new SupportSet(mic.SupportNeighbours, mic.SupportClusters, options.Seed + 1, mic.SupportExactBelow, mic.SupportProbe, mic.HardNegatives);
            }

            if (mic.UsesII)
            {
                _itemSupport = new SupportSet(mic.SupportNeighbours, mic.SupportClusters, options.Seed + 2, mic.SupportExactBelow, mic.SupportProbe, mic.HardNegatives);
            }

            if (mic.CrossPositives && mic.UsesUI && mic.WeightUI > 0)
            {
                _crossSupport = new CrossSupportSet(mic.SupportNeighbours, options.Seed + 3);
            }
        }

        Optimizer = new AdamOptimizer(Model.parameters(), options.LearningRate);
    }

    /// <summary>A freshly initialised model (seeded by <see cref="TrainOptions.Seed"/>) for these tables and options; load saved weights into it to re-measure a run.</summary>
    public static MicModel CreateModel(FeatureTables tables, TrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        torch.manual_seed(options.Seed);
        return new MicModel(EncoderRegistry.Create(options.Encoder, tables, options.EncoderOptions), options.Mic);
    }

    public MicModel Model { get; }

    public FeatureTables Tables { get; }

    /// <summary>The options this trainer runs with.</summary>
    public TrainOptions Options => _options;

    public long Step { get; private set; }

    /// <summary>Where the steps' time went since construction or <see cref="ResetStepTimes"/> (for benchmarks and logs).</summary>
    public StepPhaseTimes StepTimes { get; private set; }

    public void ResetStepTimes() => StepTimes = default;

    private AdamOptimizer Optimizer { get; }

    public ModelEmbeddings Embeddings => new(Model, Tables, _options.EncoderOptions.MaxLen);

    /// <summary>The support sets' last neighbour recall against exact neighbours ("users 0.93, items 1.00"); null before the first build.</summary>
    public string? SupportRecall => _userSupport?.NeighbourRecall is null && _itemSupport?.NeighbourRecall is null ? null
        : string.Join(", ", new[] { ("users", _userSupport?.NeighbourRecall), ("items", _itemSupport?.NeighbourRecall) }
            .Where(x => x.Item2 is not null).Select(x => $"{x.Item1} {x.Item2:F2}"));

    /// <summary>Trains until early stopping or the caps and restores the best epoch's weights (not resumable).</summary>
    public TrainResult Train(DatasetSplit split, IProgress<TrainProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Train(split, progress, resume: null, cancellationToken);

    /// <summary>
    /// Trains until early stopping or the caps and restores the best epoch's weights. With
    /// <paramref name="resume"/>, the run's state is saved there after every epoch, and a state saved
    /// there earlier (by a process that was stopped) is continued instead of starting again.
    /// </summary>
    public TrainResult Train(DatasetSplit split, IProgress<TrainProgress>? progress, TrainingResume? resume, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(split);
        var examples = new TrainingExamples(split.Train);
        if (examples.Count == 0)
        {
            throw new InvalidOperationException("The train split has no next-item examples (every train sequence has length < 2).");
        }

        var valid = _options.ValidationUsers > 0 ? split.Valid.Take(_options.ValidationUsers).ToList() : split.Valid.ToList();
        var watch = Stopwatch.StartNew();
        var best = double.NegativeInfinity;
        var bestEpoch = 0;
        Dictionary<string, Tensor>? bestState = null;
        var sinceBest = 0;
        var epoch = 0;
        long examplesSeen = 0;
        var order = Enumerable.Range(0, examples.Count).ToArray();
        var done = false;
        var priorSeconds = 0.0;
        List<int> resumedAfter = [];
        if (resume?.Saved is not null)
        {
            (var saved, bestState) = RestoreResume(resume, split.Train);
            (epoch, examplesSeen, best, bestEpoch, sinceBest, done, priorSeconds) = (saved.Epoch, saved.ExamplesSeen, saved.Best, saved.BestEpoch, saved.SinceBest, saved.Done, saved.Seconds);
            resumedAfter = [.. saved.ResumedAfter, saved.Epoch];
            for (var e = 0; e < epoch; e++)
            {
                Shuffle(order); // the same permutations as the interrupted run drew
            }

            progress?.Report(new TrainProgress(epoch, Step, 1, null, 0, null, $"resumed after epoch {epoch} (step {Step}) from {resume.Path}"));
        }

        double Seconds() => priorSeconds + watch.Elapsed.TotalSeconds;
        while (!done && epoch < _options.MaxEpochs)
        {
            epoch++;
            Shuffle(order);
            for (var start = 0; start + 1 < order.Length; start += _options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var len = Math.Min(_options.BatchSize, order.Length - start);
                if (len < 2)
                {
                    break;
                }

                var sinceWarmup = Step - _options.Mic.SupportWarmupSteps;
                if (sinceWarmup >= 0 && sinceWarmup % _options.Mic.SupportRefreshSteps == 0)
                {
                    RefreshSupportSets(split.Train);
                    if (sinceWarmup == 0 && SupportRecall is { } r)
                    {
                        progress?.Report(new TrainProgress(epoch, Step, (double)start / order.Length, null, examplesSeen / Math.Max(1e-9, watch.Elapsed.TotalSeconds), null, $"support set built at step {Step}; neighbour recall vs exact: {r}"));
                    }
                }

                var parts = TrainStep(examples, order.AsSpan(start, len), Step % _options.LogEvery == 0);
                Step++;
                examplesSeen += len;
                if (parts is not null)
                {
                    progress?.Report(new TrainProgress(epoch, Step, (double)(start + len) / order.Length, parts, examplesSeen / watch.Elapsed.TotalSeconds, null, null));
                }

                if (_options.MaxSteps > 0 && Step >= _options.MaxSteps)
                {
                    done = true;
                    break;
                }
            }

            var recall = valid.Count == 0 ? 0 : ValidationRecall50(split, valid);
            progress?.Report(new TrainProgress(epoch, Step, 1, null, examplesSeen / watch.Elapsed.TotalSeconds, recall, $"epoch {epoch}: valid Recall@50 {recall:F4}"));
            if (recall > best)
            {
                best = recall;
                bestEpoch = epoch;
                sinceBest = 0;
                DisposeState(bestState);
                bestState = CopyState();
            }
            else if (_options.Patience > 0 && ++sinceBest >= _options.Patience)
            {
                done = true;
            }

            if (resume is not null)
            {
                SaveResume(resume, bestState, new TrainingResumeHeader
                {
                    Options = TrainingResume.OptionsJson(_options),
                    Epoch = epoch,
                    Step = Step,
                    ExamplesSeen = examplesSeen,
                    Seconds = Seconds(),
                    Best = best,
                    BestEpoch = bestEpoch,
                    SinceBest = sinceBest,
                    Done = done || epoch >= _options.MaxEpochs,
                    ResumedAfter = resumedAfter,
                    CallerState = resume.CallerState,
                });
            }
        }

        if (bestState is not null)
        {
            Model.load_state_dict(bestState);
            DisposeState(bestState);
        }

        return new TrainResult(epoch, Step, best, bestEpoch, examplesSeen / Math.Max(1e-9, Seconds()), Seconds())
        {
            ResumedAfter = resumedAfter.Count > 0 ? resumedAfter : null,
        };
    }

    /// <summary>One optimisation step inside its own dispose scope. Returns the loss parts when asked to log.</summary>
    public LossParts? TrainStep(TrainingExamples examples, ReadOnlySpan<int> batchExamples, bool report)
    {
        ArgumentNullException.ThrowIfNull(examples);
        using var scope = torch.NewDisposeScope();
        var t0 = Stopwatch.GetTimestamp();
        Model.train();
        var batch = BuildBatch(examples, batchExamples);
        Optimizer.ZeroGrad();
        var t1 = Stopwatch.GetTimestamp();
        var (loss, parts) = Model.Loss(batch, _userSupport, _itemSupport, crossSupport: _crossSupport);
        var t2 = Stopwatch.GetTimestamp();
        loss.backward();
        var t3 = Stopwatch.GetTimestamp();
        Optimizer.Step();
        StepTimes = StepTimes.Add(t1 - t0, t2 - t1, t3 - t2, Stopwatch.GetTimestamp() - t3);
        if (!report)
        {
            return null;
        }

        return new LossParts(loss.item<float>(), parts[0].item<float>(), parts[1].item<float>(), parts[2].item<float>(), parts[3].item<float>(), parts[4].item<float>());
    }

    /// <summary>
    /// The loss of one batch without an update, and every tensor its terms were computed from
    /// (for the PyTorch cross-check of the loss code). Tensors are CPU copies owned by the caller.
    /// </summary>
    internal (LossParts Parts, Dictionary<string, Tensor> Inputs) CaptureLoss(TrainingExamples examples, ReadOnlySpan<int> batchExamples)
    {
        using var scope = torch.NewDisposeScope();
        Model.train();
        var inputs = new Dictionary<string, Tensor>();
        var (loss, parts) = Model.Loss(BuildBatch(examples, batchExamples), _userSupport, _itemSupport, inputs, _crossSupport);
        return (new LossParts(loss.item<float>(), parts[0].item<float>(), parts[1].item<float>(), parts[2].item<float>(), parts[3].item<float>(), parts[4].item<float>()), inputs);
    }

    internal TrainBatch BuildBatch(TrainingExamples examples, ReadOnlySpan<int> batchExamples)
    {
        var n = batchExamples.Length;
        var histories = new ReadOnlyMemory<int>[n];
        var users = new int[n];
        var targets = new long[n];
        var rows = new long[n];
        for (var i = 0; i < n; i++)
        {
            var e = batchExamples[i];
            histories[i] = examples.HistoryOf(e, _options.EncoderOptions.MaxLen);
            users[i] = examples.Users[e];
            targets[i] = examples.TargetOf(e);
            rows[i] = _userRow.Length > 0 ? _userRow[users[i]] : users[i];
        }

        var device = TorchRuntime.Device;
        var user = UserBatchBuilder.Build(histories, users, Tables, _options.EncoderOptions.MaxLen, device);
        var ids = torch.tensor(targets, device: device);
        return new TrainBatch(user, ids + Scalars.One, ids, torch.tensor(rows, device: device));
    }

    /// <summary>
    /// Rebuilds the support sets in the current representation space (items: all; users: train users'
    /// latest histories): the same-side banks in the own space, the cross bank in the relevance space.
    /// </summary>
    public void RefreshSupportSets(SequenceTable train)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (_userSupport is null && _itemSupport is null && _crossSupport is null)
        {
            return;
        }

        var embeddings = Embeddings;
        var (itemOwn, itemRel) = _itemSupport is not null || _crossSupport is not null ? embeddings.Items() : default;
        if (_itemSupport is not null)
        {
            using var scope = torch.NewDisposeScope();
            _itemSupport.Refresh(torch.tensor(itemOwn!.Data, [itemOwn.Rows, itemOwn.Dimension], device: TorchRuntime.Device));
        }

        if (_userSupport is null && _crossSupport is null)
        {
            return;
        }

        var active = SetUserRows(train);

        var queries = embeddings.Encode(active.Select(u => (ReadOnlyMemory<int>)train.Items.AsMemory(train.Offsets[u], train.Length(u))).ToArray(), active);
        if (_userSupport is not null)
        {
            using var scope = torch.NewDisposeScope();
            _userSupport.Refresh(SumOfInterests(queries, q => q.OwnInterests, embeddings.Dimension));
        }

        if (_crossSupport is not null)
        {
            using var scope = torch.NewDisposeScope();
            _crossSupport.Refresh(
                SumOfInterests(queries, q => q.RelevanceInterests, embeddings.Dimension),
                torch.tensor(itemRel!.Data, [itemRel.Rows, itemRel.Dimension], device: TorchRuntime.Device));
        }
    }

    /// <summary>Numbers the train users with a history (the user banks' rows) and returns them in row order.</summary>
    private int[] SetUserRows(SequenceTable train)
    {
        var active = Enumerable.Range(0, train.UserCount).Where(u => train.Length(u) > 0).ToArray();
        _userRow = new int[train.UserCount];
        Array.Fill(_userRow, -1);
        for (var i = 0; i < active.Length; i++)
        {
            _userRow[active[i]] = i;
        }

        return active;
    }

    /// <summary>Each user's interests summed (the direction of their mean): [users, D] on the training device.</summary>
    private static Tensor SumOfInterests(UserQuery[] queries, Func<UserQuery, float[][]> interests, int d)
    {
        var data = new float[queries.Length * d];
        for (var i = 0; i < queries.Length; i++)
        {
            var row = data.AsSpan(i * d, d);
            foreach (var v in interests(queries[i]))
            {
                System.Numerics.Tensors.TensorPrimitives.Add(row, v, row);
            }
        }

        return torch.tensor(data, [queries.Length, d], device: TorchRuntime.Device);
    }

    /// <summary>Validation Recall@50 of the U2I channel (exact search).</summary>
    public double ValidationRecall50(DatasetSplit split, IReadOnlyList<EvalCase> cases)
    {
        ArgumentNullException.ThrowIfNull(split);
        var embeddings = Embeddings;
        // U2I reads only the item relevance index: skip encoding every train user for the U2U index.
        var (own, rel) = embeddings.Items();
        var noUsers = new EmbeddingMatrix([], rel.Dimension);
        using var spaces = RetrievalSpaces.BuildExact(rel, own, noUsers, new SequenceTable([0], [], []));
        var metrics = ChannelEvaluation.Evaluate(embeddings, spaces, cases, ChannelSet.U2I, new ChannelOptions(), [50]);
        return metrics.Means()["Recall@50"];
    }

    private Dictionary<string, Tensor> CopyState()
    {
        var copy = new Dictionary<string, Tensor>();
        foreach (var (name, t) in Model.state_dict())
        {
            copy[name] = t.detach().clone().DetachFromDisposeScope();
        }

        return copy;
    }

    private static void DisposeState(Dictionary<string, Tensor>? state)
    {
        if (state is null)
        {
            return;
        }

        foreach (var t in state.Values)
        {
            t.Dispose();
        }
    }

    private void Shuffle(int[] values)
    {
        for (var i = values.Length - 1; i > 0; i--)
        {
            var j = _rng.Next(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>Rows of the support banks (users, items); 0 for a bank that is off or not built.</summary>
    internal (long Users, long Items) SupportRows => (_userSupport is { IsReady: true } u ? u.Bank.shape[0] : 0, _itemSupport is { IsReady: true } i ? i.Bank.shape[0] : 0);

    public void Dispose()
    {
        _userSupport?.Dispose();
        _itemSupport?.Dispose();
        _crossSupport?.Dispose();
        Optimizer.Dispose();
        Model.Dispose();
    }
}
