namespace MIC.Streaming.Grains;

/// <summary>One applied click as a user grain keeps it (external ids, as producers sent them).</summary>
[GenerateSerializer, Immutable, Alias("mic.interaction.v1")]
public sealed record Interaction(
    [property: Id(0)] string EventId,
    [property: Id(1)] string ItemId,
    [property: Id(2)] long Timestamp,
    [property: Id(3)] string Behaviour,
    [property: Id(4)] string? Category);

/// <summary>A Kafka position; grains remember the last one applied per partition to skip replays.</summary>
[GenerateSerializer, Immutable, Alias("mic.partition-offset.v1")]
public readonly record struct PartitionOffset([property: Id(0)] int Partition, [property: Id(1)] long Offset);

/// <summary>
/// A user's records from one consumer batch, all from one partition, in offset order.
/// <see cref="Fields"/> are the user fields of the batch's events merged in offset order (a later
/// event's value for a key wins). <see cref="Epoch"/> is the partition's log incarnation
/// (<see cref="ILogEpochGrain"/>): a grain that sees a higher epoch than it stored forgets its
/// offsets for that partition, since the log started again from offset 0.
/// <see cref="PreviousOffset"/> is the last offset of this partition the consumer already sent
/// this grain since its last commit (−1: none): a grain that no longer has it lost acknowledged
/// records in a crash and answers <see cref="ApplyResult.Lost"/> instead of applying.
/// </summary>
[GenerateSerializer, Immutable, Alias("mic.user-event-batch.v1")]
public sealed record UserEventBatch(
    [property: Id(0)] int Partition,
    [property: Id(1)] long[] Offsets,
    [property: Id(2)] Interaction[] Events,
    [property: Id(3)] IReadOnlyDictionary<string, string>? Fields = null,
    [property: Id(4)] long PreviousOffset = -1,
    [property: Id(5)] long Epoch = 0);

/// <summary>An item's records from one consumer batch (one partition, offset order).</summary>
[GenerateSerializer, Immutable, Alias("mic.item-event-batch.v1")]
public sealed record ItemEventBatch(
    [property: Id(0)] int Partition,
    [property: Id(1)] long[] Offsets,
    [property: Id(2)] string[] UserIds,
    [property: Id(3)] long[] Timestamps,
    [property: Id(4)] string? Category,
    [property: Id(5)] long PreviousOffset = -1,
    [property: Id(6)] long Epoch = 0);

/// <summary>
/// What a grain did with a batch: applied records, records skipped as replays or duplicates, or
/// <see cref="Lost"/>: nothing applied because the grain lacks records the consumer sent earlier.
/// <see cref="UnknownSkipped"/> counts records skipped as offset replays whose event id the grain
/// does not hold: either old records that left the kept window, or new records of a log that started
/// again without the consumer noticing — never silent, the consumer logs and counts them.
/// <see cref="FieldsDropped"/> counts new user-field keys not kept because the user already holds
/// <c>Sequences:MaxUserFields</c> keys (existing keys are still updated).
/// </summary>
[GenerateSerializer, Immutable, Alias("mic.apply-result.v1")]
public readonly record struct ApplyResult([property: Id(0)] int Applied, [property: Id(1)] int Skipped, [property: Id(2)] bool Lost = false, [property: Id(3)] int UnknownSkipped = 0, [property: Id(4)] bool EpochReset = false, [property: Id(5)] int FieldsDropped = 0);

/// <summary>
/// Answer to a flush: <see cref="Persisted"/> is true when the stored state now holds every record
/// up to the expected offsets. False means the grain lost records it had acknowledged (its silo
/// died before they were written): the consumer must rewind to its last committed offsets.
/// </summary>
[GenerateSerializer, Immutable, Alias("mic.flush-result.v1")]
public readonly record struct FlushResult([property: Id(0)] bool Persisted, [property: Id(1)] bool Wrote);
