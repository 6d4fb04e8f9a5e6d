using Confluent.Kafka;

namespace MIC.Streaming.Ingestion;

/// <summary>Rewinding to the last committed offsets after a failed or slow grain call, or a flush that lost records.</summary>
public sealed partial class ClickIngestionService
{
    /// <summary>
    /// The first record read from a partition since it was assigned is where its committed position
    /// was: the point to seek back to until this consumer commits the partition itself. Recorded as
    /// soon as a batch is read, before anything can fail, so a batch dropped before it was applied
    /// (a failed epoch lookup, a failed flush on revoke) is read again, never skipped.
    /// </summary>
    private void RememberRewindPoints(IConsumer<byte[]?, byte[]?> consumer, ParsedBatch batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        List<TopicPartition>? assigned = null;
        foreach (var (tp, firstOffset, _) in batch.Partitions.Values)
        {
            if (!_rewindTo.ContainsKey(tp) && (assigned ??= consumer.Assignment).Contains(tp))
            {
                _rewindTo[tp] = firstOffset;
            }
        }
    }

    private void Rewind(IConsumer<byte[]?, byte[]?> consumer, string reason)
    {
        instruments.Rewound(reason);
        var assigned = consumer.Assignment.ToHashSet();
        var seeks = 0;
        foreach (var (tp, offset) in _rewindTo)
        {
            if (assigned.Contains(tp))
            {
                consumer.Seek(new TopicPartitionOffset(tp, offset));
                seeks++;
            }
        }

        IngestionLog.Rewinding(logger, seeks, reason);
        Abandon();
    }

    /// <summary>
    /// Forgets everything applied since the last commit (positions, dirty grains, pending item
    /// batches, the flush in flight), so no later commit can cover records whose grains were not
    /// persisted. The records are read again (after a seek, or by the partitions' next owner).
    /// </summary>
    private void Abandon()
    {
        _generation++;
        _inFlight?.ContinueWith(t => _ = t.Exception, TaskScheduler.Default); // abandoned: observe its failure
        _inFlight = null;
        _processed.Clear();
        _dirtyUsers.Clear();
        _dirtyItems.Clear();
        _pendingItems = [];
        _sentUsers.Clear();
        _sentItems.Clear();
        _deadLetterDeliveries = [];
    }
}
