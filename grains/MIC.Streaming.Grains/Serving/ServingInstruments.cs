using System.Diagnostics.Metrics;

namespace MIC.Streaming.Grains.Serving;

/// <summary>Serving metrics (meter MIC.Streaming.Serving).</summary>
public sealed class ServingInstruments
{
    public const string MeterName = "MIC.Streaming.Serving";
    private readonly Histogram<double> _latency;
    private readonly Counter<long> _queries;
    private readonly Counter<long> _coldStarts;
    private readonly Histogram<double> _channel;
    private readonly Histogram<double> _refreshLag;
    private readonly Counter<long> _staleReads;
    private readonly Histogram<double> _shardHop;
    private readonly Counter<long> _partial;

    public ServingInstruments(IMeterFactory meterFactory)
        : this(meterFactory, MeterName)
    {
    }

    /// <summary>Under another meter name: e.g. the trainer's evaluation queries, kept out of the serving metrics.</summary>
    public ServingInstruments(IMeterFactory meterFactory, string meterName)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(meterName);
        _latency = meter.CreateHistogram<double>("mic.serving.retrieve.duration", "ms", "User tower + channels + merge, per query.");
        _queries = meter.CreateCounter<long>("mic.serving.queries", description: "Candidate queries answered.");
        _coldStarts = meter.CreateCounter<long>("mic.serving.cold_starts", description: "Queries answered from popularity (no usable history).");
        _staleReads = meter.CreateCounter<long>("mic.serving.stale_sequence_reads",
            description: "Queries served from the user's last stored sequence because the live user grain did not answer in time (source=storage) or from popularity because storage did not either (source=none).");
        _shardHop = meter.CreateHistogram<double>("mic.serving.shard_hop.duration", "ms", "Sharded serving: one hop (probe, score) of a query across the version's shards, fan-out to merge.");
        _partial = meter.CreateCounter<long>("mic.serving.partial_answers", description: "Sharded queries answered without some shards (they did not answer within Serving:ShardBudget).");
        meter.CreateObservableGauge("mic.serving.shard_bytes", () => ShardBytes, "By", "Bytes of index shards loaded on this silo.");
        meter.CreateObservableGauge("mic.serving.model_version", () => ModelVersion, description: "Model version this silo serves.");
        _channel = meter.CreateHistogram<double>("mic.serving.channel.duration", "ms", "Search time of one retrieval channel (u2i, u2u2i, u2i2i) per query.");
        _refreshLag = meter.CreateHistogram<double>("mic.serving.refresh_lag", "ms",
            "When a streamed version starts serving here: time since the oldest (edge=oldest) and the newest (edge=newest) event it is the first to have learned.");
    }

    public long ModelVersion { get; set; }

    private long _shardBytes;

    /// <summary>Bytes of the index shards loaded on this silo (all versions), the sharded part of its serving state.</summary>
    public long ShardBytes => Interlocked.Read(ref _shardBytes);

    public void ShardLoaded(long bytes) => Interlocked.Add(ref _shardBytes, bytes);

    public void ShardUnloaded(long bytes) => Interlocked.Add(ref _shardBytes, -bytes);

    /// <summary>A sharded query's two hops (fan-out + merge each) and whether some shard was left out.</summary>
    public void RecordShardHops(TimeSpan probe, TimeSpan score, bool partial)
    {
        _shardHop.Record(probe.TotalMilliseconds, new KeyValuePair<string, object?>("hop", "probe"));
        _shardHop.Record(score.TotalMilliseconds, new KeyValuePair<string, object?>("hop", "score"));
        if (partial)
        {
            _partial.Add(1);
        }
    }

    /// <summary>A query whose live sequence was unavailable: served from <paramref name="source"/> ("storage" or "none").</summary>
    public void RecordStaleRead(string source) => _staleReads.Add(1, new KeyValuePair<string, object?>("source", source));

    /// <summary>When each version started serving on this silo (version, Unix ms), for refresh-lag measurements.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(long Version, long ServingSinceMs)> Swaps { get; } = new();

    /// <summary>Recent user-tower and channel times (ms) for in-process percentiles (benchmarks, demo).</summary>
    public MIC.Streaming.Core.Metrics.LatencyRing TowerMs { get; } = new(16_384);

    public MIC.Streaming.Core.Metrics.LatencyRing ChannelsMs { get; } = new(16_384);

    public void RecordChannel(MIC.Streaming.Retrieval.Channels.ChannelSet channel, TimeSpan elapsed) =>
        _channel.Record(elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("channel", channel switch
        {
            MIC.Streaming.Retrieval.Channels.ChannelSet.U2I => "u2i",
            MIC.Streaming.Retrieval.Channels.ChannelSet.U2U2I => "u2u2i",
            _ => "u2i2i",
        }));

    /// <summary>A version started serving here: remembers when (<see cref="Swaps"/>) and, for a streamed version, its refresh lag.</summary>
    public void RecordSwap(ModelVersionInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Swaps.Enqueue((info.Version, now));
        while (Swaps.Count > 10_000 && Swaps.TryDequeue(out _))
        {
        }

        if (info.OldestNewEventMs <= 0)
        {
            return; // not a streamed version (bootstrap, offline training): no refresh lag
        }

        _refreshLag.Record(now - info.OldestNewEventMs, new KeyValuePair<string, object?>("edge", "oldest"));
        _refreshLag.Record(now - info.NewestEventMs, new KeyValuePair<string, object?>("edge", "newest"));
    }

    public void RecordQuery(TimeSpan elapsed, bool coldStart)
    {
        _latency.Record(elapsed.TotalMilliseconds);
        _queries.Add(1);
        if (coldStart)
        {
            _coldStarts.Add(1);
        }
    }
}
