using System.Diagnostics;
using Confluent.Kafka;
using MIC.Streaming.Core.Events;
using Microsoft.Extensions.Options;

namespace MIC.Streaming.Ingestion;

/// <summary>
/// Publishes click events to the click topic, keyed by user id (one user's events stay ordered in
/// one partition). Used by <c>POST /v1/events</c>, <c>mic produce</c> and the demo's replay, so
/// every event reaches grains through the same consumer and commit rule.
/// </summary>
public sealed class ClickPublisher : IDisposable
{
    private readonly IProducer<string, byte[]> _producer;
    private readonly string _topic;
    private readonly ThrottledLog _log = new(TimeSpan.FromSeconds(10));
    private long _failed;

    public ClickPublisher(IOptions<KafkaOptions> options)
        : this((options ?? throw new ArgumentNullException(nameof(options))).Value.BootstrapServers, options.Value.Topic, client: options.Value)
    {
    }

    public ClickPublisher(string bootstrapServers, string topic, int lingerMs = 5, KafkaOptions? client = null)
    {
        _topic = topic;
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = lingerMs,
            BatchNumMessages = 10_000,
            QueueBufferingMaxMessages = 1_000_000,
        };
        _producer = new ProducerBuilder<string, byte[]>(client?.Apply(config) ?? config)
            .SetLogHandler((_, m) => _log.Write($"{m.Level} {m.Facility}: {m.Message}"))
            .SetErrorHandler((_, e) => _log.Write($"kafka error: {e.Reason}"))
            .Build();
    }

    /// <summary>
    /// Asks the cluster for its metadata; returns null when a broker answered within
    /// <paramref name="timeout"/>, else one line saying why (librdkafka's own log lines are kept out
    /// of the console: an unreachable broker otherwise prints hundreds of them).
    /// </summary>
    public static string? Probe(string bootstrapServers, TimeSpan timeout, KafkaOptions? client = null)
    {
        var config = new AdminClientConfig { BootstrapServers = bootstrapServers, SocketConnectionSetupTimeoutMs = (int)Math.Max(1000, timeout.TotalMilliseconds) };
        string? lastError = null;
        using var admin = new AdminClientBuilder(client?.Apply(config) ?? config)
            .SetLogHandler((_, _) => { })
            .SetErrorHandler((_, e) => lastError = e.Reason)
            .Build();
        try
        {
            var metadata = admin.GetMetadata(timeout);
            return metadata.Brokers.Count > 0 ? null : $"Kafka at '{bootstrapServers}' answered without brokers.";
        }
        catch (KafkaException ex)
        {
            return $"cannot reach Kafka at '{bootstrapServers}' within {timeout.TotalSeconds:F0} s: {lastError ?? ex.Error.Reason}.";
        }
    }

    /// <summary>Deliveries that failed after librdkafka's retries (fire-and-forget path).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Publishes one event and waits for the broker's acknowledgement.</summary>
    public async Task<(int Partition, long Offset)> PublishAsync(ClickEvent evt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evt);
        var result = await _producer.ProduceAsync(_topic, new Message<string, byte[]> { Key = evt.UserId, Value = ClickEventJson.Serialize(evt) }, cancellationToken).ConfigureAwait(false);
        return (result.Partition.Value, result.Offset.Value);
    }

    /// <summary>Queues one event without waiting (high-rate replay); failures are counted in <see cref="Failed"/>.</summary>
    public void Enqueue(ClickEvent evt) => EnqueueRaw(evt?.UserId ?? throw new ArgumentNullException(nameof(evt)), ClickEventJson.Serialize(evt));

    /// <summary>Queues raw bytes under a key (tests and tools that send deliberately malformed records).</summary>
    public void EnqueueRaw(string key, byte[] value)
    {
        while (true)
        {
            try
            {
                _producer.Produce(_topic, new Message<string, byte[]> { Key = key, Value = value }, OnDelivery);
                return;
            }
            catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == Confluent.Kafka.ErrorCode.Local_QueueFull)
            {
                _producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    /// <summary>
    /// Replays events at <paramref name="eventsPerSecond"/> (0 = as fast as possible); returns
    /// how many were queued. Pacing is by wall clock, so a slow start is caught up, not lost.
    /// </summary>
    public async Task<long> ReplayAsync(IEnumerable<ClickEvent> events, double eventsPerSecond, Action<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        var started = Stopwatch.GetTimestamp();
        long sent = 0;
        foreach (var evt in events)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (eventsPerSecond > 0)
            {
                var due = TimeSpan.FromSeconds(sent / eventsPerSecond) - Stopwatch.GetElapsedTime(started);
                if (due > TimeSpan.FromMilliseconds(5))
                {
                    await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                }
            }

            Enqueue(evt);
            sent++;
            if ((sent & 1023) == 0)
            {
                progress?.Invoke(sent);
            }
        }

        progress?.Invoke(sent);
        return sent;
    }

    /// <summary>Waits until every queued event is delivered (or <paramref name="timeout"/>); returns those still queued.</summary>
    public int Flush(TimeSpan timeout) => _producer.Flush(timeout);

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
    }

    private void OnDelivery(DeliveryReport<string, byte[]> report)
    {
        if (report.Error.IsError)
        {
            Interlocked.Increment(ref _failed);
        }
    }
}

/// <summary>librdkafka's log and error lines on stderr, at most one per interval with a count of those held back.</summary>
internal sealed class ThrottledLog(TimeSpan interval)
{
    private readonly Lock _gate = new();
    private long _nextAt;
    private int _suppressed;

    public void Write(string line)
    {
        lock (_gate)
        {
            var now = Stopwatch.GetTimestamp();
            if (now < _nextAt)
            {
                _suppressed++;
                return;
            }

            _nextAt = now + (long)(interval.TotalSeconds * Stopwatch.Frequency);
            var held = _suppressed > 0 ? $" ({_suppressed} similar lines held back)" : string.Empty;
            _suppressed = 0;
            Console.Error.WriteLine($"librdkafka: {line}{held}");
        }
    }
}
