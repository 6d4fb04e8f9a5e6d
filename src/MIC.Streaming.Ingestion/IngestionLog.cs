using Microsoft.Extensions.Logging;

namespace MIC.Streaming.Ingestion;

internal static partial class IngestionLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Click consumer started: topic {Topic}, group {Group}")]
    public static partial void Started(ILogger logger, string topic, string group);

    [LoggerMessage(Level = LogLevel.Information, Message = "Partitions assigned: {Partitions}")]
    public static partial void Assigned(ILogger logger, string partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Partitions revoked: {Partitions}")]
    public static partial void Revoked(ILogger logger, string partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rewinding to the last committed offsets ({Partitions} partitions) after: {Reason}")]
    public static partial void Rewinding(ILogger logger, int partitions, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead-lettered {Topic}[{Partition}]@{Offset}: {Reason}")]
    public static partial void DeadLettered(ILogger logger, string topic, int partition, long offset, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka error {Code}: {Reason}")]
    public static partial void KafkaError(ILogger logger, Confluent.Kafka.ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Commit deferred ({Code}: {Reason}); grains are flushed, retrying at the next interval")]
    public static partial void CommitDeferred(ILogger logger, Confluent.Kafka.ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Fatal Kafka error {Code}: {Reason}; the consumer stops")]
    public static partial void KafkaFatal(ILogger logger, Confluent.Kafka.ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Click consumer stopped after {Records} records")]
    public static partial void Stopped(ILogger logger, long records);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Topic {Topic} partition {Partition} restarted: its log ends at {End}, below position {Previous} committed earlier (new broker or recreated topic); epoch {Epoch}: user and item grains reset their offsets for it and apply its records")]
    public static partial void LogRestarted(ILogger logger, string topic, int partition, long end, long previous, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} record(s) of {Topic} skipped as offset replays carry event ids their grains do not hold (old records past a grain's window, or a restarted log that was not recognised); counted in mic_ingest_unknown_skipped_total")]
    public static partial void UnknownSkipped(ILogger logger, int count, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} new user-field key(s) dropped: their users already hold Sequences:MaxUserFields keys (the events themselves were applied); counted in mic_ingest_fields_dropped_total")]
    public static partial void FieldsDropped(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording committed positions for log-restart detection failed: {Reason}")]
    public static partial void EpochRecordFailed(ILogger logger, string reason);
}
