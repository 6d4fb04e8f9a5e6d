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
        meter.CreateObservableGauge("mic.ingest.lag", () => Interlocked.Read(ref _lag), description: "Records behind the high watermark on this silo's partitions.");
    }

    public long TotalRecords => Interlocked.Read(ref _totalRecords);

    public long TotalApplied => Interlocked.Read(ref _totalApplied);

    public long TotalSkipped => Interlocked.Read(ref _totalSkipped);

    public long TotalDeadLettered => Interlocked.Read(ref _totalDeadLettered);

    public long TotalRewinds => Interlocked.Read(ref _totalRewinds);

    public long TotalCommits => Interlocked.Read(ref _totalCommits);

    public long Lag => Interlocked.Read(ref _lag);

    /// <summary>Freshness samples (ms) kept for in-process percentiles; bounded ring.</summary>
    public LatencyRing Freshness { get; } = new(65_536);

    internal void Consumed(int records)
    {
        _records.Add(records);
        Interlocked.Add(ref _totalRecords, records);
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

    internal void Rewound()
    {
        _rewinds.Add(1);
        Interlocked.Increment(ref _totalRewinds);
    }

    internal void Committed(double flushMs)
    {
        _flush.Record(flushMs);
        Interlocked.Increment(ref _totalCommits);
    }

    internal void Fresh(double ms)
    {
        _freshness.Record(ms);
        Freshness.Add(ms);
    }

    internal void SetLag(long lag) => Interlocked.Exchange(ref _lag, lag);
}

/// <summary>A fixed-size ring of recent samples for percentiles in-process (thread-safe).</summary>
public sealed class LatencyRing(int capacity)
{
    private readonly double[] _samples = new double[capacity];
    private readonly Lock _gate = new();
    private long _count;

    public void Add(double value)
    {
        lock (_gate)
        {
            _samples[_count % _samples.Length] = value;
            _count++;
        }
    }

    public long Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>Percentile (0–100) over the retained samples; NaN when empty.</summary>
    public double Percentile(double p)
    {
        double[] copy;
        lock (_gate)
        {
            copy = _samples[..(int)Math.Min(_count, _samples.Length)];
        }

        if (copy.Length == 0)
        {
            return double.NaN;
        }

        Array.Sort(copy);
        var rank = (int)Math.Ceiling(p / 100 * copy.Length) - 1;
        return copy[Math.Clamp(rank, 0, copy.Length - 1)];
    }

    public void Clear()
    {
        lock (_gate)
        {
            _count = 0;
        }
    }
}
