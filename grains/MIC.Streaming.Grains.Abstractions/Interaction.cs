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
/// <see cref="Fields"/> are the user fields carried by the newest event that had any.
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
    [property: Id(4)] long PreviousOffset = -1);

/// <summary>An item's records from one consumer batch (one partition, offset order).</summary>
[GenerateSerializer, Immutable, Alias("mic.item-event-batch.v1")]
public sealed record ItemEventBatch(
    [property: Id(0)] int Partition,
    [property: Id(1)] long[] Offsets,
    [property: Id(2)] string[] UserIds,
    [property: Id(3)] long[] Timestamps,
    [property: Id(4)] string? Category,
    [property: Id(5)] long PreviousOffset = -1);

/// <summary>
/// What a grain did with a batch: applied records, records skipped as replays or duplicates, or
/// <see cref="Lost"/>: nothing applied because the grain lacks records the consumer sent earlier.
/// </summary>
[GenerateSerializer, Immutable, Alias("mic.apply-result.v1")]
public readonly record struct ApplyResult([property: Id(0)] int Applied, [property: Id(1)] int Skipped, [property: Id(2)] bool Lost = false);

/// <summary>
/// Answer to a flush: <see cref="Persisted"/> is true when the stored state now holds every record
/// up to the expected offsets. False means the grain lost records it had acknowledged (its silo
/// died before they were written): the consumer must rewind to its last committed offsets.
/// </summary>
[GenerateSerializer, Immutable, Alias("mic.flush-result.v1")]
public readonly record struct FlushResult([property: Id(0)] bool Persisted, [property: Id(1)] bool Wrote);
