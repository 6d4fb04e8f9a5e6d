using Orleans.Concurrency;

namespace MIC.Streaming.Grains;

/// <summary>
/// A user's rolling sequence (key = external user id). Single writer: the Kafka consumer owning
/// the user's partition. Write rule (see README "Exactly-once effect"): <see cref="ApplyAsync"/>
/// changes memory only; <see cref="FlushAsync"/> persists, and the consumer commits an offset only
/// after every grain that applied a record at or below it has flushed successfully.
/// <para>The reads are <see cref="AlwaysInterleaveAttribute">always interleaved</see>: a candidates
/// request reads the sequence while a flush waits for its storage write, instead of queueing behind
/// it (and behind a stalled Redis). The writes have no await before they change memory, so a read
/// sees each batch whole, never half-applied.</para>
/// </summary>
[Alias("mic.IUserGrain")]
public interface IUserGrain : IGrainWithStringKey
{
    [Alias("Apply")]
    Task<ApplyResult> ApplyAsync(UserEventBatch batch);

    /// <summary>Persists if dirty; checks that the state holds everything up to <paramref name="expected"/>.</summary>
    [Alias("Flush")]
    Task<FlushResult> FlushAsync(PartitionOffset[] expected);

    [Alias("Get")]
    [AlwaysInterleave]
    Task<UserView> GetAsync();

    /// <summary>The last <paramref name="max"/> item ids, oldest first, and the newest event id.</summary>
    [Alias("GetRecentItems")]
    [AlwaysInterleave]
    Task<RecentItems> GetRecentItemsAsync(int max);
}

/// <summary>
/// The incarnation (epoch) of each partition of one topic (key = topic name), kept in the registry
/// storage. A log that starts again at offset 0 with the same topic name — a fresh broker, a
/// recreated topic — while Redis still holds grains with offsets of the old log would otherwise have
/// every new record skipped as a replay. The consumer resolves epochs when it is assigned a
/// partition: a log whose end is before the highest offset ever committed for it is a new
/// incarnation, so the epoch goes up and grains reset that partition's offsets.
/// </summary>
[Alias("mic.ILogEpochGrain")]
public interface ILogEpochGrain : IGrainWithStringKey
{
    /// <summary>Epochs of the partitions in <paramref name="highWatermarks"/> (each with its log's current end); bumps those whose log restarted.</summary>
    [Alias("Resolve")]
    Task<PartitionEpoch[]> ResolveAsync(PartitionOffset[] highWatermarks);

    /// <summary>Records committed positions (the next offset to read) so a later restart of the log is recognised.</summary>
    [Alias("RecordCommitted")]
    Task RecordCommittedAsync(PartitionOffset[] committed);
}

/// <summary>A partition's epoch; <see cref="Reset"/> is true when this call started a new one.</summary>
[GenerateSerializer, Immutable, Alias("mic.partition-epoch.v1")]
public readonly record struct PartitionEpoch([property: Id(0)] int Partition, [property: Id(1)] long Epoch, [property: Id(2)] bool Reset, [property: Id(3)] long PreviousEnd);

/// <summary>An item's counters and recent interactors (key = external item id); same write rule and read interleaving as users.</summary>
[Alias("mic.IItemGrain")]
public interface IItemGrain : IGrainWithStringKey
{
    [Alias("Apply")]
    Task<ApplyResult> ApplyAsync(ItemEventBatch batch);

    [Alias("Flush")]
    Task<FlushResult> FlushAsync(PartitionOffset[] expected);

    [Alias("Get")]
    [AlwaysInterleave]
    Task<ItemView> GetAsync();
}

/// <summary>Serves multi-channel candidates (stateless worker, key 0).</summary>
[Alias("mic.IRetrievalGrain")]
public interface IRetrievalGrain : IGrainWithIntegerKey
{
    [Alias("GetCandidates")]
    Task<CandidateResponse> GetCandidatesAsync(CandidateRequest request);
}

/// <summary>The model + index version every silo serves (key "default").</summary>
[Alias("mic.IModelRegistryGrain")]
public interface IModelRegistryGrain : IGrainWithStringKey
{
    [Alias("GetCurrent")]
    Task<ModelVersionInfo?> GetCurrentAsync();

    /// <summary>Registers a new version; its number must be above the current one.</summary>
    [Alias("Publish")]
    Task<ModelVersionInfo> PublishAsync(ModelVersionInfo version);

    [Alias("GetHistory")]
    Task<ModelVersionInfo[]> GetHistoryAsync();

    /// <summary>
    /// Publishes version <paramref name="from"/>'s weights and indexes again as a new version, in
    /// <paramref name="modelStore"/>. Serialised by the grain and idempotent: when the current version
    /// already is a rollback to <paramref name="from"/>, it is returned and nothing is published
    /// (ten concurrent identical requests had published six identical versions). Throws
    /// <see cref="InvalidOperationException"/> when <paramref name="from"/> is the current version and
    /// <see cref="DirectoryNotFoundException"/> when it is not in the store.
    /// </summary>
    [Alias("Rollback")]
    Task<ModelVersionInfo> RollbackAsync(long from, string modelStore);
}

/// <summary>
/// The streaming trainer (key "default"): one activation cluster-wide, placed only on silos with
/// the trainer role. Calling it activates it; its silos' keep-alive calls it every few seconds, so
/// after a trainer silo dies another trainer silo takes over from the last published checkpoint.
/// </summary>
[Alias("mic.ITrainerGrain")]
public interface ITrainerGrain : IGrainWithStringKey
{
    [Alias("GetStatus")]
    Task<TrainerStatus> GetStatusAsync();
}
