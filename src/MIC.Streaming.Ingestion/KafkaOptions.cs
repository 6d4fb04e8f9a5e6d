namespace MIC.Streaming.Ingestion;

/// <summary>Section "Kafka": where clicks come from and how they are consumed.</summary>
public sealed class KafkaOptions
{
    public const string SectionName = "Kafka";

    /// <summary>Comma-separated host:port list. Required.</summary>
    public string BootstrapServers { get; set; } = "";

    public string Topic { get; set; } = "mic.clicks";

    /// <summary>Malformed records go here with their original bytes, position and reason.</summary>
    public string DeadLetterTopic { get; set; } = "mic.clicks.dlq";

    /// <summary>One group shared by every serving silo (the trainer uses its own).</summary>
    public string GroupId { get; set; } = "mic-ingest";

    /// <summary>Whether this silo runs the hosted consumer.</summary>
    public bool ConsumerEnabled { get; set; } = true;

    /// <summary>
    /// Most records applied per batch. Large batches matter under backlog: a user's records in one
    /// batch travel in one grain call (20k users: 20k → 100k took grain apply from 14 to 8 s per 500k
    /// events); a caught-up consumer's batches stay small (<see cref="BatchWindow"/>).
    /// </summary>
    public int MaxBatch { get; set; } = 20_000;

    /// <summary>How long a batch waits to fill before it is applied.</summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// While records keep coming, dirty grains are flushed and offsets committed this often (a
    /// consumer that catches up — an empty poll — flushes at once). Each flush writes every grain
    /// touched since the last one, so under backlog a longer interval writes each grain once for
    /// several of its events (20k users: 2 s → 10 s cut flush time from 21 to 6 s per 500k events);
    /// the costs are a longer replay (grains skip it) after a crash and, measured once at 2,000 events/s,
    /// a worse freshness p99 (larger flushes delay the applies beside them): 2 s stays the default,
    /// 10 s with <see cref="MaxBatch"/> 100k is the catch-up setting (docs/BENCHMARKS.md).
    /// </summary>
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>… or as soon as this many grains are dirty.</summary>
    public int MaxDirtyGrains { get; set; } = 50_000;

    /// <summary>
    /// Grain calls (a batch's applies, a flush) that make no progress for this long — none of the
    /// outstanding ones completes — fail the batch (rewind + retry) instead of stalling.
    /// </summary>
    public TimeSpan GrainCallTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Most grain calls a consumer has in flight at once (applies of a batch, a flush's writes are sent
    /// in groups of this size): bounds each call's queueing so it stays under the silo's response timeout.
    /// </summary>
    public int MaxCallsInFlight { get; set; } = 10_000;

    /// <summary>Kafka session timeout: how fast a dead consumer's partitions move to the others.</summary>
    public int SessionTimeoutMs { get; set; } = 6000;

    /// <summary>
    /// Extra librdkafka properties for every client (security.protocol, sasl.mechanism,
    /// sasl.username, sasl.password, ssl.ca.location, …): Kafka SASL/SSL comes through here.
    /// </summary>
    public Dictionary<string, string> Client { get; set; } = [];

    /// <summary>Properties the commit rule depends on: they cannot be overridden through <see cref="Client"/>.</summary>
    private static readonly string[] Reserved = ["bootstrap.servers", "group.id", "enable.auto.commit", "enable.auto.offset.store", "auto.offset.reset", "partition.assignment.strategy"];

    /// <summary>Applies <see cref="Client"/> to a client configuration.</summary>
    public T Apply<T>(T config) where T : Confluent.Kafka.ClientConfig
    {
        ArgumentNullException.ThrowIfNull(config);
        foreach (var (key, value) in Client)
        {
            config.Set(key, value);
        }

        return config;
    }

    /// <summary>Whether item grains are updated too (counters, recent interactors).</summary>
    public bool UpdateItems { get; set; } = true;

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers))
        {
            yield return $"{SectionName}:{nameof(BootstrapServers)} is required (host:port[,host:port…]).";
        }
        else if (BootstrapServers.Split(',').Any(s => !LooksLikeHostPort(s.Trim())))
        {
            yield return $"{SectionName}:{nameof(BootstrapServers)} must be host:port[,host:port…] (got '{BootstrapServers}').";
        }

        if (string.IsNullOrWhiteSpace(Topic))
        {
            yield return $"{SectionName}:{nameof(Topic)} is required.";
        }

        if (string.IsNullOrWhiteSpace(DeadLetterTopic) || DeadLetterTopic == Topic)
        {
            yield return $"{SectionName}:{nameof(DeadLetterTopic)} is required and must differ from {nameof(Topic)}.";
        }

        if (string.IsNullOrWhiteSpace(GroupId))
        {
            yield return $"{SectionName}:{nameof(GroupId)} is required.";
        }

        if (MaxBatch is < 1 or > 1_000_000)
        {
            yield return $"{SectionName}:{nameof(MaxBatch)} must be in 1..1000000 (got {MaxBatch}).";
        }

        if (BatchWindow < TimeSpan.Zero || BatchWindow > TimeSpan.FromSeconds(10))
        {
            yield return $"{SectionName}:{nameof(BatchWindow)} must be between 0 and 00:00:10 (got {BatchWindow}).";
        }

        if (CommitInterval < TimeSpan.FromMilliseconds(10) || CommitInterval > TimeSpan.FromMinutes(5))
        {
            yield return $"{SectionName}:{nameof(CommitInterval)} must be between 00:00:00.01 and 00:05:00 (got {CommitInterval}).";
        }

        if (MaxDirtyGrains < 1)
        {
            yield return $"{SectionName}:{nameof(MaxDirtyGrains)} must be ≥ 1 (got {MaxDirtyGrains}).";
        }

        if (MaxCallsInFlight is < 1 or > 1_000_000)
        {
            yield return $"{SectionName}:{nameof(MaxCallsInFlight)} must be in 1..1000000 (got {MaxCallsInFlight}).";
        }

        if (GrainCallTimeout < TimeSpan.FromMilliseconds(100) || GrainCallTimeout > TimeSpan.FromMinutes(2))
        {
            yield return $"{SectionName}:{nameof(GrainCallTimeout)} must be between 00:00:00.1 and 00:02:00 (got {GrainCallTimeout}).";
        }

        foreach (var key in Client.Keys.Where(k => string.IsNullOrWhiteSpace(k) || Reserved.Contains(k, StringComparer.OrdinalIgnoreCase)))
        {
            yield return $"{SectionName}:{nameof(Client)}:{key} cannot be set here (empty, or managed by the consumer's commit rule).";
        }

        if (SessionTimeoutMs is < 1000 or > 300_000)
        {
            yield return $"{SectionName}:{nameof(SessionTimeoutMs)} must be in 1000..300000 (got {SessionTimeoutMs}).";
        }
    }

    private static bool LooksLikeHostPort(string s)
    {
        var colon = s.LastIndexOf(':');
        return colon > 0 && int.TryParse(s.AsSpan(colon + 1), out var port) && port is > 0 and < 65536;
    }
}
