using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MIC.Streaming.Grains;
using MIC.Streaming.Grains.Serving;

namespace MIC.Streaming.Trainer;

/// <summary>Trainer metrics (meter MIC.Streaming.Trainer), exported by every trainer silo.</summary>
public sealed class TrainerInstruments
{
    public const string MeterName = "MIC.Streaming.Trainer";
    private readonly Counter<long> _updates;
    private readonly Counter<long> _examples;
    private readonly Histogram<double> _updateSeconds;
    private readonly Histogram<double> _publishLag;
    private readonly Histogram<double> _phaseSeconds;
    private readonly ConcurrentQueue<UpdatePhases> _cycles = new();
    private StreamingTrainer? _trainer;

    public TrainerInstruments(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _updates = meter.CreateCounter<long>("mic.trainer.updates", description: "Incremental updates trained and published.");
        _examples = meter.CreateCounter<long>("mic.trainer.examples", description: "Examples given to updates (new + replayed; new ones count once per pass).");
        _updateSeconds = meter.CreateHistogram<double>("mic.trainer.update.duration", "s", "Training time of one incremental update (grow + steps + support-set rebuild).");
        _publishLag = meter.CreateHistogram<double>("mic.trainer.publish_lag", "ms", "From the oldest event a version is first to learn to its registration (serving swaps follow within the poll interval).");
        _phaseSeconds = meter.CreateHistogram<double>("mic.trainer.cycle.phase.duration", "s", "Seconds of one update cycle's phase (catalog, grow, support, steps, publish, reload).");
        meter.CreateObservableCounter("mic.trainer.events", () => _trainer?.EventsSeen ?? 0, description: "Click records read by the trainer.");
        meter.CreateObservableGauge("mic.trainer.model_version", () => _trainer?.PublishedVersion ?? 0, description: "Last version the trainer published.");
        meter.CreateObservableGauge("mic.trainer.window_examples", () => _trainer?.WindowExamples ?? 0, description: "Examples in the replay window.");
        meter.CreateObservableGauge("mic.trainer.online_recall", ObserveRecall, description: "Prequential Recall@K per channel and model (live, frozen) over the recent scored events.");
        meter.CreateObservableGauge("mic.trainer.online_hit_rate", ObserveHitRate, description: "Prequential HitRate@K per channel and model over the recent scored users.");
        EvaluationServing = new ServingInstruments(meterFactory, MeterName + ".Evaluation");
    }

    /// <summary>Instruments for the evaluator's own serving models (a meter no exporter reads).</summary>
    public ServingInstruments EvaluationServing { get; }

    /// <summary>True while the local trainer trains or publishes an update.</summary>
    public bool Updating => _trainer?.IsUpdating ?? false;

    /// <summary>The local trainer's latest status (null on a silo whose trainer grain is elsewhere).</summary>
    public TrainerStatus? Status => _trainer?.Status;

    /// <summary>The phases of the most recent update cycles on this silo (newest last, at most 1,024).</summary>
    public IReadOnlyList<UpdatePhases> Cycles => [.. _cycles];

    internal void Observe(StreamingTrainer trainer) => _trainer = trainer;

    internal void Cycle(UpdatePhases phases)
    {
        _phaseSeconds.Record(phases.Catalog, new KeyValuePair<string, object?>("phase", "catalog"));
        _phaseSeconds.Record(phases.Grow, new KeyValuePair<string, object?>("phase", "grow"));
        _phaseSeconds.Record(phases.Support, new KeyValuePair<string, object?>("phase", "support"));
        _phaseSeconds.Record(phases.Steps, new KeyValuePair<string, object?>("phase", "steps"));
        _phaseSeconds.Record(phases.Publish, new KeyValuePair<string, object?>("phase", "publish"));
        _phaseSeconds.Record(phases.Reload, new KeyValuePair<string, object?>("phase", "reload"));
        _cycles.Enqueue(phases);
        while (_cycles.Count > 1024 && _cycles.TryDequeue(out _))
        {
        }
    }

    internal void Updated(UpdateResult result)
    {
        _updates.Add(1);
        _examples.Add(result.NewExamples + result.ReplayedExamples);
        _updateSeconds.Record(result.Seconds);
    }

    internal void Published(ModelVersionInfo info, long nowMs)
    {
        if (info.OldestNewEventMs > 0)
        {
            _publishLag.Record(Math.Max(0, nowMs - info.OldestNewEventMs));
        }
    }

    private IEnumerable<Measurement<double>> ObserveRecall() =>
        (_trainer?.Online ?? []).Select(r => new Measurement<double>(r.Recall, new("channel", r.Channel), new("model", r.Model), new("k", r.K)));

    private IEnumerable<Measurement<double>> ObserveHitRate() =>
        (_trainer?.Online ?? []).Select(r => new Measurement<double>(r.HitRate, new("channel", r.Channel), new("model", r.Model), new("k", r.K)));
}
