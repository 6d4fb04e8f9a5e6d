using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace MIC.Streaming.Ingestion;

/// <summary>
/// The dead-letter record format: the original key and value bytes unchanged, and headers naming
/// where it came from and why it was rejected. Tools can re-drive a fixed record by reading these.
/// </summary>
public static class DeadLetters
{
    public const string ReasonHeader = "mic-dlq-reason";
    public const string TopicHeader = "mic-dlq-topic";
    public const string PartitionHeader = "mic-dlq-partition";
    public const string OffsetHeader = "mic-dlq-offset";

    /// <param name="topic">The source topic (the consumer does not marshal it into every record).</param>
    public static Message<byte[]?, byte[]?> Create(ConsumeResult<byte[]?, byte[]?> source, string topic, string reason)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(topic);
        var headers = new Headers
        {
            { ReasonHeader, Encoding.UTF8.GetBytes(reason) },
            { TopicHeader, Encoding.UTF8.GetBytes(topic) },
            { PartitionHeader, Encoding.UTF8.GetBytes(source.Partition.Value.ToString(CultureInfo.InvariantCulture)) },
            { OffsetHeader, Encoding.UTF8.GetBytes(source.Offset.Value.ToString(CultureInfo.InvariantCulture)) },
        };
        return new Message<byte[]?, byte[]?> { Key = source.Message.Key, Value = source.Message.Value, Headers = headers };
    }

    /// <summary>Reads the reason and source position of a dead-lettered record.</summary>
    public static (string Reason, string Topic, int Partition, long Offset) Describe(Headers headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        string Get(string key) => headers.TryGetLastBytes(key, out var v) ? Encoding.UTF8.GetString(v) : "";
        return (Get(ReasonHeader), Get(TopicHeader),
            int.TryParse(Get(PartitionHeader), CultureInfo.InvariantCulture, out var p) ? p : -1,
            long.TryParse(Get(OffsetHeader), CultureInfo.InvariantCulture, out var o) ? o : -1);
    }
}
