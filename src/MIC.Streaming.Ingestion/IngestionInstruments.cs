using MIC.Streaming.Core.Metrics;
using System.Diagnostics.Metrics;

namespace MIC.Streaming.Ingestion;

/// <summary>
/// Ingestion metrics (meter MIC.Streaming.Ingestion), plus plain running totals for the demo's
/// console view and the benchmarks, which read them in-process.
/// </summary>
public sealed class IngestionInstruments
{
    public const string MeterName = "MIC.Streaming.Ingestion";
    private readonly Counter<long> _records;
    private readonly Counter<long> _applied;
    private readonly Counter<long> _skipped;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _rewinds;
    private readonly Histogram<double> _flush;
    private readonly Histogram<double> _freshness;
    private long _totalRecords;
    private long _totalApplied;
    private long _totalSkipped;
    private long _totalDeadLettered;
    private long _totalRewinds;
    private long _totalCommits;
    private long _lag;
    private long _readTicks;
    private long _parseTicks;
    private long _applyTicks;
    private long _flushTicks;

    private long _batches;
    private long _userCalls;

    public IngestionInstruments(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _records = meter.CreateCounter<long>("mic.ingest.records", description: "Kafka records consumed.");
        _applied = meter.CreateCounter<long>("mic.ingest.applied", description: "Events applied to user grains.");
        _skipped = meter.CreateCounter<long>("mic.ingest.skipped", description: "Replayed or duplicate events skipped by user grains.");
        _deadLettered = meter.CreateCounter<long>("mic.ingest.dead_lettered", description: "Malformed records sent to the dead-letter topic, by reason.");
        _rewinds = meter.CreateCounter<long>("mic.ingest.rewinds", description: "Rewinds to the last committed offsets after a failed grain call or a lost flush.");
        _flush = meter.CreateHistogram<double>("mic.ingest.flush.duration", "ms", "Flushing dirty grains and committing offsets.");
        _freshness = meter.CreateHistogram<double>("mic.ingest.freshness", "ms", "Record timestamp → applied to its user grain.");
        _unknownSkipped = meter.CreateCounter<long>("mic.ingest.unknown_skipped", description: "Records skipped as offset replays whose event id the grain does not hold (see ApplyResult.UnknownSkipped).");
        _logRestarts = meter.CreateCounter<long>("mic.ingest.log_restarts", description: "Partitions found to be a new incarnation of their log (fresh broker, recreated topic): a new epoch.");
        _grainEpochResets = meter.CreateCounter<long>("mic.ingest.grain_epoch_resets", description: "Grains that reset a partition's offsets for a new log epoch.");
        _fieldsDropped = meter.CreateCounter<long>("mic.ingest.fields_dropped", description: "New user-field keys not kept: the user already holds Sequences:MaxUserFields keys.");
        meter.CreateObservableGauge("mic.ingest.lag", () => Interlocked.Read(ref _lag), description: "Records behind the high watermark on this silo's partitions.");
    }

    private readonly Counter<long> _unknownSkipped;
    private readonly Counter<long> _fieldsDropped;
    private readonly Counter<long> _logRestarts;
    private readonly Counter<long> _grainEpochResets;
    private long _totalUnknownSkipped;
    private long _totalLogRestarts;

    public long TotalUnknownSkipped => Interlocked.Read(ref _totalUnknownSkipped);

    public long TotalLogRestarts => Interlocked.Read(ref _totalLogRestarts);

    public void FieldsDropped(int count) => _fieldsDropped.Add(count);

    public void UnknownSkipped(int count)
    {
        Interlocked.Add(ref _totalUnknownSkipped, count);
        _unknownSkipped.Add(count);
    }

    public void LogRestarted()
    {
        Interlocked.Increment(ref _totalLogRestarts);
        _logRestarts.Add(1);
    }

    public void GrainEpochResets(int count) => _grainEpochResets.Add(count);

    public long TotalRecords => Interlocked.Read(ref _totalRecords);

    public long TotalApplied => Interlocked.Read(ref _totalApplied);

    public long TotalSkipped => Interlocked.Read(ref _totalSkipped);

    public long TotalDeadLettered => Interlocked.Read(ref _totalDeadLettered);

    public long TotalRewinds => Interlocked.Read(ref _totalRewinds);

    /// <summary>Why the consumer last rewound (null when it never did).</summary>
    public string? LastRewindReason { get; private set; }

    public long TotalCommits => Interlocked.Read(ref _totalCommits);

    public long Lag => Interlocked.Read(ref _lag);

    /// <summary>Where the consumer's time went (seconds): reading from Kafka, parsing + grouping, grain apply calls, flush + commit.</summary>
    public (double Read, double Parse, double Apply, double Flush) TimeSpent => (
        TimeSpan.FromTicks(Interlocked.Read(ref _readTicks)).TotalSeconds,
        TimeSpan.FromTicks(Interlocked.Read(ref _parseTicks)).TotalSeconds,
        TimeSpan.FromTicks(Interlocked.Read(ref _applyTicks)).TotalSeconds,
        TimeSpan.FromTicks(Interlocked.Read(ref _flushTicks)).TotalSeconds);

    internal void Spent(TimeSpan read, TimeSpan parse, TimeSpan apply)
    {
        Interlocked.Add(ref _readTicks, read.Ticks);
        Interlocked.Add(ref _parseTicks, parse.Ticks);
        Interlocked.Add(ref _applyTicks, apply.Ticks);
    }

    /// <summary>Freshness samples (ms) kept for in-process percentiles; bounded ring.</summary>
    public LatencyRing Freshness { get; } = new(65_536);

    /// <summary>Stopwatch timestamp of the first consumed record (0 before), for throughput that excludes start-up.</summary>
    public long FirstRecordTimestamp => Interlocked.Read(ref _firstRecord);

    private long _firstRecord;

    internal void Consumed(int records)
    {
        Interlocked.CompareExchange(ref _firstRecord, System.Diagnostics.Stopwatch.GetTimestamp(), 0);
        _records.Add(records);
        Interlocked.Add(ref _totalRecords, records);
    }

    /// <summary>Batches applied, and the user-grain calls they took (one per user and partition in a batch).</summary>
    public (long Batches, long UserCalls) BatchesApplied => (Interlocked.Read(ref _batches), Interlocked.Read(ref _userCalls));

    internal void AppliedBatch(int userCalls)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _userCalls, userCalls);
    }

    internal void Applied(int applied, int skipped)
    {
        _applied.Add(applied);
        _skipped.Add(skipped);
        Interlocked.Add(ref _totalApplied, applied);
        Interlocked.Add(ref _totalSkipped, skipped);
    }

    internal void DeadLettered(string reason)
    {
        _deadLettered.Add(1, new KeyValuePair<string, object?>("reason", reason));
        Interlocked.Increment(ref _totalDeadLettered);
    }

    internal void Rewound(string reason)
    {
        LastRewindReason = reason;
        _rewinds.Add(1);
        Interlocked.Increment(ref _totalRewinds);
    }

    internal void Committed(double flushMs)
    {
        _flush.Record(flushMs);
        Interlocked.Add(ref _flushTicks, TimeSpan.FromMilliseconds(flushMs).Ticks);
        Interlocked.Increment(ref _totalCommits);
    }

    internal void Fresh(double ms)
    {
        _freshness.Record(ms);
        Freshness.Add(ms);
    }

    internal void SetLag(long lag) => Interlocked.Exchange(ref _lag, lag);
}
