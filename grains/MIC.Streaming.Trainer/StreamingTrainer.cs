using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Faiss;
using MIC.Streaming.Grains;
using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Ingestion;
using MIC.Streaming.Model;
using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Training;
using MIC.Streaming.Retrieval.Channels;
using Microsoft.Extensions.Logging;

namespace MIC.Streaming.Trainer;

/// <summary>Where the streaming trainer gets its inputs and puts its outputs.</summary>
public sealed record StreamingTrainerContext(
    IGrainFactory Grains,
    KafkaOptions Kafka,
    TrainerOptions Options,
    string ModelStore,
    ChannelOptions Channels,
    TrainerInstruments Instruments,
    ILogger Logger,
    TimeProvider Time,
    string Silo,
    Func<long, int> Shards);

/// <summary>
/// The streaming trainer's loop (hosted by <see cref="TrainerGrain"/> on a dedicated thread):
/// <list type="number">
/// <item>resume from the registry's current version: its weights, catalog, replay window and
/// stream positions (or start from scratch when there is none);</item>
/// <item>read the click topic from those positions; score a sampled share of events against the
/// served version before learning from them (prequential); add every event to the catalog and
/// the replay window;</item>
/// <item>every <see cref="TrainerOptions.UpdateInterval"/> or <see cref="TrainerOptions.UpdateEvents"/>
/// new events: grow the tables, train incrementally, rebuild the support sets;</item>
/// <item>publish: representations → index snapshot → model store (weights, indexes and trainer
/// state in one atomically renamed directory) → registry, which every silo follows; old versions
/// are pruned; the trainer group's offsets are committed for monitoring.</item>
/// </list>
/// </summary>
public sealed class StreamingTrainer : IDisposable
{
    private readonly StreamingTrainerContext _ctx;
    private readonly TrainerOptions _options;
    private readonly Random _sampler;
    private readonly PrequentialEvaluator _evaluator;
    private readonly Dictionary<int, long> _positions = [];
    private ReplayWindow _window;
    private LiveCatalog? _catalog;
    private IncrementalTrainer? _trainer;
    private long _eventsSeen;
    private long _eventsTrained;
    private long _skipped;
    private int _updates;
    private long _publishedVersion;
    private long _frozenVersion;
    private long _oldestNewMs;
    private long _newestMs;
    private UpdateResult? _lastUpdate;
    private UpdatePhases? _lastCycle;
    private volatile string _state = "starting";
    private string? _lastError;
    private volatile bool _updating;
    private long _evaluationSecond;
    private int _evaluationsThisSecond;

    public StreamingTrainer(StreamingTrainerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _ctx = context;
        _options = context.Options;
        _sampler = new Random(_options.Seed + 11);
        _evaluator = new PrequentialEvaluator(_options.EvaluateK, _options.EvaluateWindow);
        _window = NewWindow();
        context.Instruments.Observe(this);
    }

    /// <summary>The current status, read from another thread (counters may be a step behind each other).</summary>
    public TrainerStatus Status => BuildStatus();

    /// <summary>Online recall snapshot for the metrics exporter.</summary>
    public OnlineRecall[] Online => _evaluator.Snapshot();

    public long PublishedVersion => Interlocked.Read(ref _publishedVersion);

    public long EventsSeen => Interlocked.Read(ref _eventsSeen);

    /// <summary>True while an update trains or publishes (benchmarks compare serving latency inside and outside).</summary>
    public bool IsUpdating => _updating;

    public int WindowExamples => _window.Count;

    /// <summary>Wait between looks at an empty consumer within one read (records arrive in fetches).</summary>
    private static readonly TimeSpan EmptyPollDelay = TimeSpan.FromMilliseconds(5);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var device = TorchRuntime.Initialize(new TorchOptions { AllowCuda = _options.Device != "cpu", Threads = _options.EffectiveThreads, ReuseFreedMemory = _options.ReuseFreedMemory });
        if (_options.Device == "cuda" && device.type != TorchSharp.DeviceType.CUDA)
        {
            throw new InvalidOperationException("Trainer:Device is 'cuda' but no CUDA device is available (the CPU libtorch backend is built in; see docs/OPERATIONS.md for the CUDA build).");
        }

        var mmapThresholdMiB = (TorchRuntime.MmapThreshold ?? 0) >> 20;
        TrainerLog.Runtime(_ctx.Logger, device.type, _options.EffectiveThreads, mmapThresholdMiB, mmapThresholdMiB > 0);

        await ResumeAsync();
        using var consumer = BuildConsumer();
        Assign(consumer);
        SetState(_trainer is null ? "collecting" : "streaming");
        var lastUpdate = _ctx.Time.GetTimestamp();
        var lastRegistryCheck = lastUpdate;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (_trainer is null && _ctx.Time.GetElapsedTime(lastRegistryCheck) >= TimeSpan.FromSeconds(1))
                {
                    // Collecting for a first model, but someone published one (a bootstrap, an offline
                    // run): stop here; the grain restarts the loop, which resumes from that version.
                    lastRegistryCheck = _ctx.Time.GetTimestamp();
                    if (await _ctx.Grains.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey).GetCurrentAsync() is { } appeared)
                    {
                        TrainerLog.VersionAppeared(_ctx.Logger, appeared.Version);
                        break;
                    }
                }

                await ConsumeAsync(consumer, cancellationToken);
                var due = _ctx.Time.GetElapsedTime(lastUpdate) >= _options.UpdateInterval || _window.NewCount >= _options.UpdateEvents;
                // Thresholds count examples (events with a history before them), the first model counts events read.
                if (_trainer is null ? Interlocked.Read(ref _eventsSeen) >= _options.InitialEvents && _window.NewCount >= 2 : _window.NewCount >= _options.MinNewEvents && due)
                {
                    // The interval runs start to start: an update that took longer than the interval is
                    // followed at once by the next one, so the refresh lag is ~interval + one update.
                    lastUpdate = _ctx.Time.GetTimestamp();
                    await UpdateAndPublishAsync(consumer, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is KafkaException or IOException or InvalidDataException or OrleansException or TimeoutException or ArgumentException or Faiss.RecallFloorException)
            {
                // A failed publish (or an index below Trainer:IndexRecallFloor) keeps the trained weights and
                // the window; the next update publishes both.
                _lastError = ex.Message;
                TrainerLog.UpdateFailed(_ctx.Logger, ex.Message);
                SetState("retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                SetState("streaming");
            }
        }

        consumer.Close();
        SetState("stopped");
    }

    /// <summary>Loads the registry's current version (weights, catalog, window, positions), if any.</summary>
    private async Task ResumeAsync()
    {
        var registry = _ctx.Grains.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey);
        var current = await registry.GetCurrentAsync();
        if (current is null)
        {
            _catalog = new LiveCatalog(new DatasetBuilder("stream").Build(), _options.MaxUserSequence);
            TrainerLog.FromScratch(_ctx.Logger, _options.InitialEvents, _options.Encoder);
            return;
        }

        var (model, _, dataset, manifest) = Checkpoint.Load(Path.Combine(current.Path, ModelStore.CheckpointDirectory));
        var progress = TrainerCheckpoint.Load(Path.Combine(current.Path, ModelStore.TrainerDirectory), _window, _options.Seed + (int)(current.Version % 100_000));
        if (progress is not null)
        {
            foreach (var (partition, offset) in progress.Positions)
            {
                _positions[partition] = offset;
            }

            _eventsSeen = progress.EventsSeen;
            _eventsTrained = progress.EventsTrained;
            _skipped = progress.Skipped;
            _updates = progress.Updates;
            _frozenVersion = progress.FrozenVersion;
        }
        else
        {
            _frozenVersion = current.Version; // a bootstrap model: it is the frozen baseline
        }

        _catalog = new LiveCatalog(dataset, _options.MaxUserSequence);
        _trainer = new IncrementalTrainer(model, dataset, manifest.Options, _options);
        _publishedVersion = current.Version;
        _evaluator.SetLive(LoadServing(current));
        if (_options.CompareFrozen)
        {
            LoadFrozen();
        }

        TrainerLog.Resumed(_ctx.Logger, current.Version, _eventsSeen, _positions.Count, _window.Count);
    }

    private void LoadFrozen()
    {
        if (_frozenVersion <= 0 || _evaluator.HasFrozen)
        {
            return;
        }

        var path = ModelStore.VersionPath(_ctx.ModelStore, _frozenVersion);
        if (Directory.Exists(path))
        {
            _evaluator.SetFrozen(LoadServing(new ModelVersionInfo(_frozenVersion, path, DateTimeOffset.MinValue, "frozen baseline")));
        }
    }

    private ServingModel LoadServing(ModelVersionInfo info)
    {
        var serving = new ServingModel(_ctx.Channels, _ctx.Instruments.EvaluationServing);
        serving.Publish(ModelStore.Load(info));
        return serving;
    }

    private IConsumer<byte[]?, byte[]?> BuildConsumer() =>
        new ConsumerBuilder<byte[]?, byte[]?>(_ctx.Kafka.Apply(new ConsumerConfig
        {
            BootstrapServers = _ctx.Kafka.BootstrapServers,
            GroupId = _options.GroupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchWaitMaxMs = 50,
        })).Build();

    /// <summary>Every partition of the topic, from the checkpoint's positions (else the group's commit, else the beginning).</summary>
    private void Assign(IConsumer<byte[]?, byte[]?> consumer)
    {
        using var admin = new AdminClientBuilder(_ctx.Kafka.Apply(new AdminClientConfig { BootstrapServers = _ctx.Kafka.BootstrapServers })).Build();
        var metadata = admin.GetMetadata(_ctx.Kafka.Topic, TimeSpan.FromSeconds(10));
        var topic = metadata.Topics.FirstOrDefault(t => t.Topic == _ctx.Kafka.Topic);
        if (topic is null || topic.Error.IsError || topic.Partitions.Count == 0)
        {
            throw new KafkaException(new Error(Confluent.Kafka.ErrorCode.UnknownTopicOrPart, $"Topic {_ctx.Kafka.Topic} has no partitions: {topic?.Error.Reason}"));
        }

        var assignment = topic.Partitions
            .Select(p => new TopicPartitionOffset(_ctx.Kafka.Topic, p.PartitionId, _positions.TryGetValue(p.PartitionId, out var o) ? new Offset(o) : Offset.Stored))
            .ToList();
        consumer.Assign(assignment);
    }

    /// <summary>
    /// Reads what is there (≤ 5,000 records or 200 ms): score a sample, then learn the rest into
    /// catalog + window. Takes only what librdkafka has already fetched and awaits between empty
    /// looks, so it never holds a thread-pool thread (in the one-process demo those threads also
    /// serve candidates and ingest).
    /// </summary>
    private async Task ConsumeAsync(IConsumer<byte[]?, byte[]?> consumer, CancellationToken cancellationToken)
    {
        var catalog = _catalog!;
        var maxLen = _trainer?.TrainOptions.EncoderOptions.MaxLen ?? new EncoderOptions().MaxLen;
        var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 5);
        for (var n = 0; n < 5000 && !cancellationToken.IsCancellationRequested;)
        {
            var record = consumer.Consume(TimeSpan.Zero);
            if (record is null)
            {
                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    break;
                }

                await Task.Delay(EmptyPollDelay, cancellationToken).ConfigureAwait(false);
                continue;
            }

            n++;

            if (record.IsPartitionEOF)
            {
                continue;
            }

            _positions[record.Partition.Value] = record.Offset.Value + 1;
            Interlocked.Increment(ref _eventsSeen);
            if (!ClickEventJson.TryParse(record.Message.Value, out var evt, out _))
            {
                _skipped++; // the ingestion consumer dead-letters it with the reason
                continue;
            }

            var (user, item, history) = catalog.Observe(evt!, maxLen);
            if (history.Length > 0)
            {
                // Prequential: scored on the user's history before this click, before any update learns it.
                if (_options.EvaluateShare > 0 && _sampler.NextDouble() < _options.EvaluateShare && EvaluationBudget())
                {
                    _evaluator.Evaluate(user, evt!.UserId, Array.ConvertAll(history, catalog.Items.GetRaw), evt.ItemId);
                }

                var produced = record.Message.Timestamp.UnixTimestampMs;
                _window.Add(new StreamExample(user, item, history, produced));
                _oldestNewMs = _oldestNewMs == 0 ? produced : Math.Min(_oldestNewMs, produced);
                _newestMs = Math.Max(_newestMs, produced);
            }
        }
    }

    private async Task UpdateAndPublishAsync(IConsumer<byte[]?, byte[]?> consumer, CancellationToken cancellationToken)
    {
        _updating = true;
        try
        {
            await TrainAndPublishAsync(consumer, cancellationToken);
        }
        finally
        {
            _updating = false;
        }
    }

    private async Task TrainAndPublishAsync(IConsumer<byte[]?, byte[]?> consumer, CancellationToken cancellationToken)
    {
        var catalog = _catalog!;
        SetState("training");
        var phase = Stopwatch.StartNew();
        if (_options.MaxUsers > 0 && catalog.Evict(_options.MaxUsers) is { } remap)
        {
            // Bounded user side: the least recently active users are forgotten, their window examples too.
            var dropped = _window.RemapUsers(remap);
            var evicted = remap.Length - catalog.UserCount;
            TrainerLog.UsersEvicted(_ctx.Logger, evicted, dropped, catalog.UserCount);
        }

        var dataset = catalog.Build("stream");
        var catalogSeconds = phase.Elapsed.TotalSeconds;
        var fresh = _window.TakeNew();
        var replay = _window.Sample((int)Math.Round(fresh.Count * _options.ReplayRatio));
        var first = _trainer is null;
        if (first)
        {
            var train = new TrainOptions
            {
                Encoder = _options.Encoder,
                EncoderOptions = new EncoderOptions { Dimension = _options.Dimension },
                BatchSize = _options.BatchSize,
                LearningRate = _options.LearningRate,
                Seed = _options.Seed,
            };
            var tables = new FeatureTables(dataset);
            TorchSharp.torch.manual_seed(_options.Seed);
            var model = new MicModel(EncoderRegistry.Create(train.Encoder, tables, train.EncoderOptions), train.Mic);
            _trainer = new IncrementalTrainer(model, dataset, train, _options);
        }

        // Training takes seconds of CPU: on its own thread, not a thread-pool one.
        var trainer = _trainer!;
        var result = await Task.Factory.StartNew(
            () => first
                ? trainer.Update(dataset, fresh, replay, _options.InitialEpochs, int.MaxValue, cancellationToken)
                : trainer.Update(dataset, fresh, replay, cancellationToken),
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).ConfigureAwait(false);
        _eventsTrained += fresh.Count;
        _updates++;
        _lastUpdate = result;
        _ctx.Instruments.Updated(result);
        TrainerLog.Updated(_ctx.Logger, _updates, result.NewExamples, result.ReplayedExamples, result.Steps, result.Seconds, result.GrowSeconds, result.SupportSeconds, result.Grew, dataset.UserCount, dataset.ItemCount);

        SetState("publishing");
        var served = PublishedVersion; // the version the events scored since the last publish were scored against
        phase.Restart();
        var info = await PublishAsync(dataset);
        var publishSeconds = phase.Elapsed.TotalSeconds;
        phase.Restart();
        _ctx.Instruments.Published(info, _ctx.Time.GetUtcNow().ToUnixTimeMilliseconds());
        CommitPositions(consumer);
        AppendMetricsRow(served);
        _evaluator.SetLive(LoadServing(info));
        if (_options.CompareFrozen)
        {
            if (_frozenVersion == 0)
            {
                _frozenVersion = info.Version;
            }

            LoadFrozen();
        }

        var pruned = ModelStore.Prune(_ctx.ModelStore, _options.KeepVersions, info.Version, _frozenVersion);
        _lastCycle = new UpdatePhases(catalogSeconds, result.GrowSeconds, result.SupportSeconds, result.StepSeconds, publishSeconds, phase.Elapsed.TotalSeconds);
        _ctx.Instruments.Cycle(_lastCycle);
        TrainerLog.Published(_ctx.Logger, info.Version, pruned, publishSeconds);
        _lastError = null;
        SetState("streaming");
    }

    private async Task<ModelVersionInfo> PublishAsync(InteractionDataset dataset)
    {
        var registry = _ctx.Grains.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey);
        var current = await registry.GetCurrentAsync();
        var version = ModelStore.NextVersion(_ctx.ModelStore, current);
        var trainer = _trainer!;
        var manifest = new CheckpointManifest
        {
            Options = trainer.TrainOptions,
            Dataset = "stream",
            Protocol = "streaming",
            Step = trainer.Steps,
            Epochs = _updates,
            CreatedUtc = _ctx.Time.GetUtcNow(),
        };
        var progress = new TrainerProgress
        {
            Positions = new Dictionary<int, long>(_positions),
            EventsSeen = Interlocked.Read(ref _eventsSeen),
            EventsTrained = _eventsTrained,
            Skipped = _skipped,
            Updates = _updates,
            FrozenVersion = _frozenVersion == 0 ? version : _frozenVersion,
        };
        var description = string.Create(CultureInfo.InvariantCulture, $"streaming update {_updates}: {_eventsTrained} events trained, {dataset.UserCount} users, {dataset.ItemCount} items");
        var info = ModelPublisher.Write(
            _ctx.ModelStore, version, trainer.Model, dataset, dataset.Sequences.ActiveWithin((long)_options.UserIndexWindow.TotalSeconds), manifest, _options.IndexOptions, description, _ctx.Time,
            dir => TrainerCheckpoint.Save(dir, progress, _window), _ctx.Shards((long)dataset.ItemCount + dataset.UserCount)) with
        {
            OldestNewEventMs = _oldestNewMs,
            NewestEventMs = _newestMs,
        };
        var published = await registry.PublishAsync(info);
        Interlocked.Exchange(ref _publishedVersion, published.Version);
        _oldestNewMs = 0;
        return published;
    }

    /// <summary>For lag monitoring only: the checkpoint holds the positions a takeover resumes from.</summary>
    private void CommitPositions(IConsumer<byte[]?, byte[]?> consumer)
    {
        var offsets = _positions.Select(p => new TopicPartitionOffset(_ctx.Kafka.Topic, p.Key, p.Value)).ToList();
        if (offsets.Count == 0)
        {
            return;
        }

        try
        {
            consumer.Commit(offsets);
        }
        catch (KafkaException ex) when (!ex.Error.IsFatal)
        {
            TrainerLog.CommitFailed(_ctx.Logger, ex.Error.Reason);
        }
    }

    /// <summary>At each publish, one CSV row per (model, channel) for the events scored since the previous one: what <c>mic report</c> plots.</summary>
    private void AppendMetricsRow(long servedVersion)
    {
        var row = _evaluator.TakeRow();
        var path = Path.Combine(_ctx.ModelStore, _options.MetricsFile);
        var header = !File.Exists(path);
        using var writer = new StreamWriter(path, append: true);
        if (header)
        {
            writer.WriteLine(OnlineMetricsFile.Header);
        }

        var now = _ctx.Time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var ((model, channel), (n, recall)) in row.OrderBy(r => r.Key.Model).ThenBy(r => r.Key.Channel))
        {
            writer.WriteLine(OnlineMetricsFile.Format(new OnlineMetricsRow(now, servedVersion, Interlocked.Read(ref _eventsSeen), model, channel, _evaluator.K, n, recall)));
        }
    }

    /// <summary>At most <see cref="TrainerOptions.EvaluateMaxPerSecond"/> scored events per second (each costs a few queries).</summary>
    private bool EvaluationBudget()
    {
        var second = Stopwatch.GetTimestamp() / Stopwatch.Frequency;
        if (second != _evaluationSecond)
        {
            _evaluationSecond = second;
            _evaluationsThisSecond = 0;
        }

        return ++_evaluationsThisSecond <= _options.EvaluateMaxPerSecond;
    }

    private ReplayWindow NewWindow() => new(_options.WindowRecent, _options.WindowReservoir, _options.Seed);

    private void SetState(string state) => _state = state;

    private TrainerStatus BuildStatus() => new(
        _ctx.Silo, _state, Interlocked.Read(ref _publishedVersion), Interlocked.Read(ref _eventsSeen), _eventsTrained, _updates,
        _catalog?.UserCount ?? 0, _catalog?.ItemCount ?? 0, _window.Count, _lastUpdate?.Seconds ?? 0, _lastUpdate?.ExamplesPerSecond ?? 0, _evaluator.Snapshot(), _lastError, _lastCycle);

    public void Dispose()
    {
        _trainer?.Dispose();
        _evaluator.Dispose();
    }
}
