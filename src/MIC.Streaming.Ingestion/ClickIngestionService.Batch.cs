using System.Diagnostics;
using Confluent.Kafka;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Grains;

namespace MIC.Streaming.Ingestion;

/// <summary>A batch of records as read and parsed, grouped per user and per item.</summary>
public sealed partial class ClickIngestionService
{
    /// <summary>
    /// A batch as read: the records' count and positions per partition, each user's valid events
    /// (grouped per user and partition, in offset order), the item events, the malformed records (kept
    /// whole for the dead-letter topic) and the produce timestamps (for freshness).
    /// </summary>
    private sealed class ParsedBatch(bool withItems, string topic, Utf8StringCache ids)
    {
        public int Count { get; private set; }

        public TimeSpan Parsing { get; private set; }

        public Dictionary<int, (TopicPartition Tp, long First, long Last)> Partitions { get; } = [];

        public Dictionary<(string User, int Partition), EventGroup> Users { get; } = [];

        public List<(string Item, int Partition, long Offset, Interaction Event, string User)> Items { get; } = [];

        public List<(ConsumeResult<byte[]?, byte[]?> Record, string Reason)> Malformed { get; } = [];

        public List<long> Timestamps { get; } = [];

        public void Add(ConsumeResult<byte[]?, byte[]?> record)
        {
            var started = Stopwatch.GetTimestamp();
            Count++;
            var partition = record.Partition.Value;
            var offset = record.Offset.Value;
            Partitions[partition] = Partitions.TryGetValue(partition, out var seen) ? seen with { Last = offset } : (new TopicPartition(topic, partition), offset, offset);
            if (!ClickEventJson.TryParse(record.Message.Value, out var evt, out var reason, ids))
            {
                Malformed.Add((record, reason));
            }
            else
            {
                var interaction = new Interaction(evt!.EventId, evt.ItemId, evt.Timestamp, evt.Behaviour, evt.Category);
                if (!Users.TryGetValue((evt.UserId, partition), out var userGroup))
                {
                    Users[(evt.UserId, partition)] = userGroup = new EventGroup();
                }

                userGroup.Add(offset, interaction, null, evt.Fields);
                if (withItems)
                {
                    Items.Add((evt.ItemId, partition, offset, interaction, evt.UserId));
                }

                Timestamps.Add(record.Message.Timestamp.UnixTimestampMs);
            }

            Parsing += Stopwatch.GetElapsedTime(started);
        }
    }

    private sealed class EventGroup
    {
        public List<long> Offsets { get; } = [];

        public List<Interaction> Events { get; } = [];

        /// <summary>The interacting user of each event (item groups only).</summary>
        public List<string> Users { get; } = [];

        public IReadOnlyDictionary<string, string>? Fields { get; private set; }

        private Dictionary<string, string>? _merged;

        public void Add(long offset, Interaction interaction, string? user, IReadOnlyDictionary<string, string>? fields)
        {
            Offsets.Add(offset);
            Events.Add(interaction);
            if (user is not null)
            {
                Users.Add(user);
            }

            if (fields is { Count: > 0 })
            {
                // Every event's fields, in offset order: a later event's value for a key wins.
                if (Fields is null)
                {
                    Fields = fields;
                }
                else
                {
                    _merged ??= new Dictionary<string, string>(Fields, StringComparer.Ordinal); // never mutate an event's own dictionary
                    foreach (var (key, value) in fields)
                    {
                        _merged[key] = value;
                    }

                    Fields = _merged;
                }
            }
        }
    }
}
