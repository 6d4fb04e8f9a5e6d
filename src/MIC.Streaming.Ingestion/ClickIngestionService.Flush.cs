using System.Diagnostics;
using Confluent.Kafka;
using MIC.Streaming.Grains;

namespace MIC.Streaming.Ingestion;

/// <summary>The commit rule: flush every grain touched since the last commit, wait for the dead letters' delivery, then commit.</summary>
public sealed partial class ClickIngestionService
{
    /// <summary>Takes the dirty grains, positions and dead letters so far, and starts persisting them.</summary>
    private void StartFlush()
    {
        if (_processed.Count == 0 && _dirtyUsers.Count == 0 && _pendingItems.Count == 0)
        {
            return;
        }

        var itemBatches = new List<(string Item, ItemEventBatch Batch)>(_pendingItems.Count);
        foreach (var ((item, partition), g) in _pendingItems)
        {
            itemBatches.Add((item, new ItemEventBatch(partition, [.. g.Offsets], [.. g.Users], [.. g.Events.Select(e => e.Timestamp)], g.Events[^1].Category, Previous(_sentItems, item, partition), EpochOf(partition))));
            Expect(_dirtyItems, item, partition, g.Offsets[^1]);
            Expect(_sentItems, item, partition, g.Offsets[^1]);
        }

        var snapshot = new FlushSnapshot(_dirtyUsers, _dirtyItems, itemBatches, new Dictionary<TopicPartition, long>(_processed), _deadLetterDeliveries, _generation, Stopwatch.GetTimestamp());
        _readSinceFlush = false;
        _dirtyUsers = new(StringComparer.Ordinal);
        _dirtyItems = new(StringComparer.Ordinal);
        _pendingItems = [];
        _deadLetterDeliveries = [];
        _inFlight = FlushAsync(snapshot);
    }

    private async Task<FlushSnapshot> FlushAsync(FlushSnapshot snapshot)
    {
        if (snapshot.ItemBatches.Count > 0)
        {
            var applied = await StallTimeout.CallAllAsync(snapshot.ItemBatches, b => grains.GetGrain<IItemGrain>(b.Item).ApplyAsync(b.Batch), _options.MaxCallsInFlight, _options.GrainCallTimeout, time);
            if (applied.Any(r => r.Lost))
            {
                throw new LostRecordsException("item grain(s) lack records acknowledged earlier (their silo stopped before a flush)");
            }
        }

        var flushes = new List<Func<Task<FlushResult>>>(snapshot.Users.Count + snapshot.Items.Count);
        foreach (var (user, expected) in snapshot.Users)
        {
            flushes.Add(() => grains.GetGrain<IUserGrain>(user).FlushAsync(ToArray(expected)));
        }

        foreach (var (item, expected) in snapshot.Items)
        {
            flushes.Add(() => grains.GetGrain<IItemGrain>(item).FlushAsync(ToArray(expected)));
        }

        var results = await StallTimeout.CallAllAsync(flushes, f => f(), _options.MaxCallsInFlight, _options.GrainCallTimeout, time);
        var lost = results.Count(r => !r.Persisted);
        if (lost > 0)
        {
            throw new LostRecordsException($"{lost} grain(s) no longer hold records they acknowledged (their silo stopped before a flush)");
        }

        await StallTimeout.WhenAllAsync(snapshot.DeadLetters, _options.GrainCallTimeout, time);
        return snapshot;
    }

    /// <summary>
    /// Commits a completed flush's positions: every record at or below them was applied before the
    /// snapshot and is now persisted. A commit refused by a rebalance loses nothing (the next owner
    /// replays and grains skip); the positions are committed with the next flush instead.
    /// </summary>
    private async Task CompleteFlushAsync(IConsumer<byte[]?, byte[]?> consumer)
    {
        var task = _inFlight!;
        _inFlight = null;
        FlushSnapshot snapshot;
        try
        {
            snapshot = await task;
        }
        catch
        {
            // Whatever failed (a grain, storage, a cancelled call while the silo stops) and whoever
            // called: the grains that flush took are not persisted, so no position applied since the
            // last commit may be committed later. The caller rewinds, or the next owner replays.
            Abandon();
            throw;
        }

        if (snapshot.Generation != _generation)
        {
            return; // taken before a rewind: its positions may be ahead of what is now applied
        }

        var assigned = consumer.Assignment.ToHashSet();
        var offsets = snapshot.Positions.Where(p => assigned.Contains(p.Key)).Select(p => new TopicPartitionOffset(p.Key, p.Value)).ToList();
        if (offsets.Count > 0)
        {
            // The synchronous commit runs off this loop: during a rebalance it can queue behind a
            // JoinGroup on the coordinator connection, and the JoinGroup waits for this very consumer
            // to poll. Blocked here, the loop stopped polling until max.poll.interval (60 s) expired
            // and the group dropped it (found by scripts/chaos.sh: 5,757 clicks waited ~40 s). Now the
            // loop waits at most CommitWait, then keeps polling; an unfinished commit counts as
            // deferred (the positions are committed with a later flush, and a rewind goes back to
            // the last commit known to have succeeded).
            if (_commitInFlight is { IsCompleted: false })
            {
                IngestionLog.CommitDeferred(logger, Confluent.Kafka.ErrorCode.Local_InProgress, "the previous commit is still in flight");
                return;
            }

            var commit = Task.Run(() => consumer.Commit(offsets));
            _commitInFlight = commit;
            if (await Task.WhenAny(commit, Task.Delay(CommitWait, time)) != commit)
            {
                _ = commit.ContinueWith(t => _ = t.Exception, TaskScheduler.Default); // observed whenever it ends
                IngestionLog.CommitDeferred(logger, Confluent.Kafka.ErrorCode.Local_TimedOut, "no answer within 2 s (a rebalance in progress?); polling on");
                return;
            }

            try
            {
                await commit;
            }
            catch (KafkaException ex) when (!ex.Error.IsFatal)
            {
                IngestionLog.CommitDeferred(logger, ex.Error.Code, ex.Error.Reason);
                return;
            }

            foreach (var o in offsets)
            {
                _rewindTo[o.TopicPartition] = o.Offset.Value;
            }

            ForgetCommitted(_sentUsers, offsets);
            ForgetCommitted(_sentItems, offsets);
            try
            {
                await grains.GetGrain<ILogEpochGrain>(_options.Topic).RecordCommittedAsync([.. offsets.Select(o => new PartitionOffset(o.Partition.Value, o.Offset.Value))]);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                // Only the detection of a later log restart is weakened; the commit stands.
                IngestionLog.EpochRecordFailed(logger, ex.Message);
            }
        }

        instruments.Committed(Stopwatch.GetElapsedTime(snapshot.Started).TotalMilliseconds);
    }

    /// <summary>Waits for the flush in flight, then flushes and commits everything applied so far.</summary>
    private async Task FlushAllAndCommitAsync(IConsumer<byte[]?, byte[]?> consumer)
    {
        if (_inFlight is not null)
        {
            await CompleteFlushAsync(consumer);
        }

        StartFlush();
        if (_inFlight is not null)
        {
            await CompleteFlushAsync(consumer);
        }
    }

    /// <summary>Offsets below a committed position are persisted: no need to remember them as sent.</summary>
    private static void ForgetCommitted(Dictionary<string, Dictionary<int, long>> sent, List<TopicPartitionOffset> committed)
    {
        var next = committed.ToDictionary(o => o.Partition.Value, o => o.Offset.Value);
        List<string>? empty = null;
        foreach (var (key, partitions) in sent)
        {
            foreach (var (partition, offset) in partitions)
            {
                if (next.TryGetValue(partition, out var n) && offset < n)
                {
                    partitions.Remove(partition);
                }
            }

            if (partitions.Count == 0)
            {
                (empty ??= []).Add(key);
            }
        }

        empty?.ForEach(k => sent.Remove(k));
    }
}

/// <summary>What one flush persists and, once it completes, commits.</summary>
internal sealed record FlushSnapshot(
    Dictionary<string, Dictionary<int, long>> Users,
    Dictionary<string, Dictionary<int, long>> Items,
    List<(string Item, ItemEventBatch Batch)> ItemBatches,
    Dictionary<TopicPartition, long> Positions,
    List<Task<DeliveryResult<byte[]?, byte[]?>>> DeadLetters,
    int Generation,
    long Started);
