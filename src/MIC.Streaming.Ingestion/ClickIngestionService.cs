using System.Diagnostics;
using Confluent.Kafka;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MIC.Streaming.Ingestion;

/// <summary>
/// The hosted click consumer every serving silo runs (one shared group, CooperativeSticky).
/// <para>Per batch: parse each record (malformed → dead-letter topic with its bytes, position and
/// reason; never stops the loop), group events per user and per item, apply through one grain
/// call each, await every ack.</para>
/// <para>Commit rule (with the user grain's write policy): every
/// <see cref="KafkaOptions.CommitInterval"/>, flush each grain touched since the last commit and
/// wait for the dead letters' delivery, then commit the next offset of every processed record.
/// So a committed offset is always persisted in grain storage. A failed or slow grain call, or a
/// flush that reports lost records (its silo died), rewinds this consumer to its last committed
/// offsets; grains skip what they already applied, so the replay applies each record exactly once.</para>
/// </summary>
public sealed partial class ClickIngestionService(
    IGrainFactory grains,
    IOptions<KafkaOptions> options,
    IngestionInstruments instruments,
    ILogger<ClickIngestionService> logger,
    TimeProvider time) : BackgroundService
{
    private readonly KafkaOptions _options = options.Value;
    private readonly Dictionary<TopicPartition, long> _processed = [];   // next offset to commit
    private readonly Dictionary<TopicPartition, long> _rewindTo = [];
    private readonly Dictionary<int, long> _epochs = [];                  // log incarnation per partition (ILogEpochGrain)    // last committed (or first seen)

    // Grains touched since the last flush snapshot, with the highest offset applied per partition.
    private Dictionary<string, Dictionary<int, long>> _dirtyUsers = new(StringComparer.Ordinal);
    private Dictionary<string, Dictionary<int, long>> _dirtyItems = new(StringComparer.Ordinal);

    // Item events since the last flush snapshot, coalesced per item and partition: item grains get
    // one apply per commit interval (inside the flush), off the per-batch path users need for freshness.
    private Dictionary<(string Item, int Partition), EventGroup> _pendingItems = [];

    // Highest offset sent per grain and partition that is not yet known committed: sent as
    // PreviousOffset so a grain that lost acknowledged records says so at once.
    private readonly Dictionary<string, Dictionary<int, long>> _sentUsers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<int, long>> _sentItems = new(StringComparer.Ordinal);
    private readonly Utf8StringCache _ids = new(1 << 18); // one string per repeated item id / category (see Utf8StringCache)
    private List<Task<DeliveryResult<byte[]?, byte[]?>>> _deadLetterDeliveries = [];
    private IProducer<byte[]?, byte[]?>? _deadLetterProducer;

    // The flush runs while the next batches are applied (so a slow storage write does not stall
    // freshness); its snapshot's offsets are committed when it completes. A rewind abandons it.
    private Task<FlushSnapshot>? _inFlight;
    private Task? _commitInFlight;

    /// <summary>How long the loop waits for a commit before it goes back to polling (see <see cref="CompleteFlushAsync"/>).</summary>
    private static readonly TimeSpan CommitWait = TimeSpan.FromSeconds(2);
    private int _generation;
    private bool _readSinceFlush; // records were read (applied or dead-lettered) since the last flush snapshot

    // Set when a flush inside a rebalance callback failed: its snapshot (dirty grains and pending item
    // batches of every partition, not only the revoked ones) is gone, so the partitions we keep must
    // rewind to their last commit. Done by the loop once the callback has returned.
    private string? _rewindReason;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        _options.ConsumerEnabled ? Task.Run(() => RunAsync(stoppingToken), stoppingToken) : Task.CompletedTask;

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        using var consumer = BuildConsumer();
        using var deadLetters = new ProducerBuilder<byte[]?, byte[]?>(_options.Apply(new ProducerConfig
        {
            BootstrapServers = _options.BootstrapServers,
            Acks = Acks.All,
            LingerMs = 5,
        })).Build();
        _deadLetterProducer = deadLetters;
        consumer.Subscribe(_options.Topic);
        IngestionLog.Started(logger, _options.Topic, _options.GroupId);
        var lastCommit = time.GetTimestamp();
        var backoff = TimeSpan.FromMilliseconds(100);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var readStarted = Stopwatch.GetTimestamp();
                    var batch = await ReadBatchAsync(consumer, stoppingToken);
                    var read = Stopwatch.GetElapsedTime(readStarted) - batch.Parsing;
                    RememberRewindPoints(consumer, batch);
                    if (_rewindReason is { } reason)
                    {
                        _rewindReason = null;
                        Rewind(consumer, reason); // the batch is dropped: it is read again from the commit
                        continue;
                    }

                    if (batch.Count > 0)
                    {
                        await ResolveEpochsAsync(consumer, batch);
                        await ApplyAsync(batch, read);
                    }

                    if (_inFlight is { IsCompleted: true })
                    {
                        await CompleteFlushAsync(consumer);
                        UpdateLag(consumer);
                    }

                    // Flush every CommitInterval while busy, when too many grains are dirty, or at once when
                    // caught up (nothing fetched at this look): a backlog pays for few flushes, an idle consumer
                    // commits promptly. At a moderate rate that is many small flushes, which costs a few more
                    // storage writes than one per interval but keeps applies from queueing behind one large
                    // flush (freshness p99 at 2,000 events/s: 105 ms this way, 341 ms when "caught up" needed
                    // 100 ms without records).
                    var caughtUp = batch.Count == 0 && _readSinceFlush;
                    if (_inFlight is null && (caughtUp || time.GetElapsedTime(lastCommit) >= _options.CommitInterval || _dirtyUsers.Count + _pendingItems.Count >= _options.MaxDirtyGrains))
                    {
                        StartFlush();
                        lastCommit = time.GetTimestamp();
                    }

                    backoff = TimeSpan.FromMilliseconds(100);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    IngestionLog.KafkaError(logger, ex.Error.Code, ex.Error.Reason);
                }
                catch (KafkaException ex) when (ex.Error.IsFatal)
                {
                    IngestionLog.KafkaFatal(logger, ex.Error.Code, ex.Error.Reason);
                    throw;
                }
                catch (Exception ex) when (ex is TimeoutException or OrleansException or KafkaException or LostRecordsException or InvalidOperationException)
                {
                    Rewind(consumer, ex.Message);
                    await Task.Delay(backoff, stoppingToken).ConfigureAwait(false);
                    backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
                }
            }

            // Orderly stop: persist and commit what was applied, then leave the group.
            try
            {
                await FlushAllAndCommitAsync(consumer);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException or KafkaException or LostRecordsException)
            {
                // The failed flush took the dirty grains with it: forget the positions too, or the
                // revoke that Close() triggers would commit them without those grains persisted.
                Abandon();
                IngestionLog.Rewinding(logger, 0, "final commit failed; the next owner replays: " + ex.Message);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            consumer.Close();
            IngestionLog.Stopped(logger, instruments.TotalRecords);
        }
    }

    private IConsumer<byte[]?, byte[]?> BuildConsumer() =>
        new ConsumerBuilder<byte[]?, byte[]?>(_options.Apply(new ConsumerConfig
        {
            BootstrapServers = _options.BootstrapServers,
            GroupId = _options.GroupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            SessionTimeoutMs = _options.SessionTimeoutMs,
            HeartbeatIntervalMs = Math.Max(100, _options.SessionTimeoutMs / 3),
            MaxPollIntervalMs = Math.Max(_options.SessionTimeoutMs + 1000, 60_000),
            FetchWaitMaxMs = 10,
            // Partition, offset and value are always there; the topic is ours (one subscription) and
            // headers are unused, so neither is marshalled into a string / list for every record.
            ConsumeResultFields = "timestamp",
        }))
        .SetPartitionsAssignedHandler((_, partitions) =>
        {
            if (logger.IsEnabled(LogLevel.Information))
            {
                var text = string.Join(",", partitions.Select(p => p.Partition.Value));
                IngestionLog.Assigned(logger, text);
            }
        })
        .SetPartitionsRevokedHandler((c, partitions) =>
        {
            // Hand over cleanly: persist and commit before the partitions move, so the next owner
            // does not replay (and dead-letter again) what we finished. Confluent calls this
            // synchronously inside Consume on this loop's own thread, so blocking here is safe.
            try
            {
                FlushAllAndCommitAsync(c).GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException or KafkaException or LostRecordsException)
            {
                IngestionLog.Rewinding(logger, 0, "commit on revoke failed; the next owner replays: " + ex.Message);
                Abandon(); // nothing applied since the last commit may be committed now
                _rewindReason = "flush on revoke failed: " + ex.Message;
            }

            Forget(partitions.Select(p => p.TopicPartition), revoked: true);
        })
        .SetPartitionsLostHandler((_, partitions) => Forget(partitions.Select(p => p.TopicPartition), revoked: false))
        .SetErrorHandler((_, e) =>
        {
            if (e.IsFatal)
            {
                IngestionLog.KafkaFatal(logger, e.Code, e.Reason);
            }
        })
        .Build();

    /// <summary>
    /// A partition moving away is not committed by us: its new owner replays from the last commit
    /// and the grains (still holding what we applied, or their stored state) skip the replays.
    /// </summary>
    private void Forget(IEnumerable<TopicPartition> partitions, bool revoked)
    {
        var list = partitions.ToList();
        foreach (var tp in list)
        {
            _processed.Remove(tp);
            _rewindTo.Remove(tp);
            _epochs.Remove(tp.Partition.Value); // resolved again if it comes back (the log may have restarted meanwhile)
        }

        if (logger.IsEnabled(LogLevel.Information))
        {
            var text = (revoked ? "" : "lost ") + string.Join(",", list.Select(p => p.Partition.Value));
            IngestionLog.Revoked(logger, text);
        }
    }

    /// <summary>
    /// Reads up to <see cref="KafkaOptions.MaxBatch"/> records, or what arrives within
    /// <see cref="KafkaOptions.BatchWindow"/>, parsing and grouping each as it arrives: a valid record's
    /// bytes are not kept, so a large batch does not hold (and make the GC promote) every consumed
    /// record until it is applied. Never blocks: librdkafka fetches in its own threads, this loop runs
    /// on the shared thread pool (the API and the grains' pool), so with nothing fetched it awaits a
    /// short delay instead of blocking a pool thread in Consume.
    /// </summary>
    private async Task<ParsedBatch> ReadBatchAsync(IConsumer<byte[]?, byte[]?> consumer, CancellationToken stoppingToken)
    {
        var batch = new ParsedBatch(_options.UpdateItems, _options.Topic, _ids);
        var first = consumer.Consume(TimeSpan.Zero);
        if (first is null || first.IsPartitionEOF)
        {
            if (_rewindReason is null)
            {
                await Task.Delay(IdlePoll, stoppingToken).ConfigureAwait(false);
            }

            return batch;
        }

        batch.Add(first);
        var started = Stopwatch.GetTimestamp();
        while (batch.Count < _options.MaxBatch && !stoppingToken.IsCancellationRequested)
        {
            var next = consumer.Consume(TimeSpan.Zero);
            if (_rewindReason is not null)
            {
                break;
            }

            if (next is null)
            {
                if (Stopwatch.GetElapsedTime(started) >= _options.BatchWindow)
                {
                    break;
                }

                await Task.Delay(FillPoll, stoppingToken).ConfigureAwait(false); // let the batch fill, without blocking a pool thread
                continue;
            }

            if (!next.IsPartitionEOF)
            {
                batch.Add(next);
            }
        }

        return batch;
    }

    /// <summary>How long an idle consumer waits before it looks at the fetched records again.</summary>
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(5);

    /// <summary>How long a filling batch waits for more fetched records (within <see cref="KafkaOptions.BatchWindow"/>).</summary>
    private static readonly TimeSpan FillPoll = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// Applies a batch: dead-letters its malformed records, adds its item events to the ones the next
    /// flush applies, sends each user's events to the user's grain, awaits every ack, and only then
    /// makes the batch's positions committable.
    /// </summary>
    private async Task ApplyAsync(ParsedBatch batch, TimeSpan read)
    {
        instruments.Consumed(batch.Count);
        _readSinceFlush = true;

        foreach (var (record, reason) in batch.Malformed)
        {
            DeadLetter(record, reason);
        }

        foreach (var (item, partition, offset, interaction, user) in batch.Items)
        {
            if (!_pendingItems.TryGetValue((item, partition), out var itemGroup))
            {
                _pendingItems[(item, partition)] = itemGroup = new EventGroup();
            }

            itemGroup.Add(offset, interaction, user, null);
        }

        var applyStarted = Stopwatch.GetTimestamp();
        var users = batch.Users;
        var groups = users.ToList();
        instruments.AppliedBatch(groups.Count);
        var results = await StallTimeout.CallAllAsync(
            groups,
            g => grains.GetGrain<IUserGrain>(g.Key.User).ApplyAsync(new UserEventBatch(g.Key.Partition, [.. g.Value.Offsets], [.. g.Value.Events], g.Value.Fields, Previous(_sentUsers, g.Key.User, g.Key.Partition), EpochOf(g.Key.Partition))),
            _options.MaxCallsInFlight,
            _options.GrainCallTimeout,
            time);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var ts in batch.Timestamps)
        {
            instruments.Fresh(Math.Max(0, now - ts));
        }

        var lost = results.Count(r => r.Lost);
        if (lost > 0)
        {
            throw new LostRecordsException($"{lost} grain(s) lack records acknowledged earlier (their silo stopped before a flush)");
        }

        int applied = 0, skipped = 0, unknown = 0, resets = 0, fieldsDropped = 0;
        foreach (var r in results)
        {
            fieldsDropped += r.FieldsDropped;
            applied += r.Applied;
            skipped += r.Skipped;
            unknown += r.UnknownSkipped;
            resets += r.EpochReset ? 1 : 0;
        }

        if (unknown > 0)
        {
            // Skipped as offset replays although the grains never saw these event ids: old records that
            // left a grain's window, or a log that restarted unnoticed. Never silent.
            instruments.UnknownSkipped(unknown);
            IngestionLog.UnknownSkipped(logger, unknown, _options.Topic);
        }

        if (fieldsDropped > 0)
        {
            instruments.FieldsDropped(fieldsDropped);
            IngestionLog.FieldsDropped(logger, fieldsDropped);
        }

        if (resets > 0)
        {
            instruments.GrainEpochResets(resets);
        }

        foreach (var ((user, partition), g) in users)
        {
            Expect(_dirtyUsers, user, partition, g.Offsets[^1]);
            Expect(_sentUsers, user, partition, g.Offsets[^1]);
        }

        // Positions become committable only now that every grain acknowledged the batch: a batch
        // whose apply failed (or was cancelled while the silo stops) is never covered by a commit.
        foreach (var (tp, _, lastOffset) in batch.Partitions.Values)
        {
            _processed[tp] = lastOffset + 1;
        }

        instruments.Applied(applied, skipped);
        instruments.Spent(read, batch.Parsing, Stopwatch.GetElapsedTime(applyStarted));
    }

    /// <summary>Epoch of a partition of the click topic (0 until resolved; resolved before any of its records is applied).</summary>
    private long EpochOf(int partition) => _epochs.TryGetValue(partition, out var epoch) ? epoch : 0;

    /// <summary>
    /// Before the first records of a newly assigned partition are applied: asks the topic's epoch
    /// grain, with the partition's current end, whether this is still the log the grains' offsets
    /// came from. A restarted log gets a new epoch and the grains reset their offsets for it.
    /// </summary>
    private async Task ResolveEpochsAsync(IConsumer<byte[]?, byte[]?> consumer, ParsedBatch batch)
    {
        var unknown = batch.Partitions.Values.Where(p => !_epochs.ContainsKey(p.Tp.Partition.Value)).Select(p => p.Tp).ToList();
        if (unknown.Count == 0)
        {
            return;
        }

        var ends = unknown.Select(tp => new PartitionOffset(tp.Partition.Value, consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(5)).High.Value)).ToArray();
        foreach (var e in await grains.GetGrain<ILogEpochGrain>(_options.Topic).ResolveAsync(ends))
        {
            _epochs[e.Partition] = e.Epoch;
            if (e.Reset)
            {
                instruments.LogRestarted();
                IngestionLog.LogRestarted(logger, _options.Topic, e.Partition, ends.First(x => x.Partition == e.Partition).Offset, e.PreviousEnd, e.Epoch);
            }
        }
    }

    private static long Previous(Dictionary<string, Dictionary<int, long>> dirty, string key, int partition) =>
        dirty.TryGetValue(key, out var sent) && sent.TryGetValue(partition, out var offset) ? offset : -1;

    private static void Expect(Dictionary<string, Dictionary<int, long>> dirty, string key, int partition, long offset)
    {
        if (!dirty.TryGetValue(key, out var expected))
        {
            dirty[key] = expected = [];
        }

        expected[partition] = Math.Max(offset, expected.TryGetValue(partition, out var o) ? o : -1);
    }

    private void DeadLetter(ConsumeResult<byte[]?, byte[]?> record, string reason)
    {
        _deadLetterDeliveries.Add(_deadLetterProducer!.ProduceAsync(_options.DeadLetterTopic, DeadLetters.Create(record, _options.Topic, reason)));
        var colon = reason.IndexOf(':', StringComparison.Ordinal);
        instruments.DeadLettered(colon < 0 ? reason : reason[..colon]); // the code only: bounded tag cardinality
        IngestionLog.DeadLettered(logger, _options.Topic, record.Partition.Value, record.Offset.Value, reason);
    }

    private void UpdateLag(IConsumer<byte[]?, byte[]?> consumer)
    {
        long lag = 0;
        foreach (var tp in consumer.Assignment)
        {
            var w = consumer.GetWatermarkOffsets(tp);
            var position = consumer.Position(tp);
            if (w.High.Value >= 0 && position.Value >= 0)
            {
                lag += Math.Max(0, w.High.Value - position.Value);
            }
        }

        instruments.SetLag(lag);
    }

    private static PartitionOffset[] ToArray(Dictionary<int, long> expected) =>
        [.. expected.Select(p => new PartitionOffset(p.Key, p.Value))];
}

/// <summary>A flush found a grain missing records it had acknowledged: the consumer rewinds.</summary>
public sealed class LostRecordsException(string message) : Exception(message);
