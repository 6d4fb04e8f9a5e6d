namespace MIC.Streaming.Grains;

/// <summary>A user's live state as the API shows it: newest interaction last.</summary>
[GenerateSerializer, Immutable, Alias("mic.user-view.v1")]
public sealed record UserView(
    [property: Id(0)] string UserId,
    [property: Id(1)] Interaction[] Recent,
    [property: Id(2)] IReadOnlyDictionary<string, string> Fields,
    [property: Id(3)] long TotalEvents,
    [property: Id(4)] PartitionOffset[] LastApplied);

/// <summary>An item's counters and most recent interactors (newest last).</summary>
[GenerateSerializer, Immutable, Alias("mic.item-view.v1")]
public sealed record ItemView(
    [property: Id(0)] string ItemId,
    [property: Id(1)] string? Category,
    [property: Id(2)] long Interactions,
    [property: Id(3)] string[] RecentUsers,
    [property: Id(4)] long LastTimestamp);

/// <summary>The retrieval channels (flags) a caller may ask for; <see cref="Popular"/> is the cold-start answer.</summary>
[Flags]
public enum RetrievalChannels
{
    None = 0,
    U2I = 1,
    U2U2I = 2,
    U2I2I = 4,
    Popular = 8,
    All = U2I | U2U2I | U2I2I,
}

[GenerateSerializer, Immutable, Alias("mic.candidate-request.v1")]
public sealed record CandidateRequest(
    [property: Id(0)] string UserId,
    [property: Id(1)] int K,
    [property: Id(2)] RetrievalChannels Channels);

/// <summary>One served item: merged score and the channels that proposed it.</summary>
[GenerateSerializer, Immutable, Alias("mic.served-candidate.v1")]
public sealed record ServedCandidate(
    [property: Id(0)] string ItemId,
    [property: Id(1)] float Score,
    [property: Id(2)] RetrievalChannels Channels);

/// <summary>
/// Candidates for one user. <see cref="HistoryLength"/> and <see cref="NewestEventId"/>
/// describe the live sequence the answer was computed from; <see cref="ColdStart"/> says the user
/// had no usable history and got the popularity list instead.
/// </summary>
[GenerateSerializer, Immutable, Alias("mic.candidate-response.v1")]
public sealed record CandidateResponse(
    [property: Id(0)] string UserId,
    [property: Id(1)] long ModelVersion,
    [property: Id(2)] bool ColdStart,
    [property: Id(3)] int HistoryLength,
    [property: Id(4)] ServedCandidate[] Items,
    [property: Id(5)] string? NewestEventId)
{
    /// <summary>
    /// Sharded serving only: some index shards did not answer within the query's budget (their silo
    /// died and they are re-activating elsewhere), so the candidates come from the shards that did.
    /// </summary>
    [Id(6)] public bool Partial { get; init; }
}

/// <summary>A published model version: checkpoint + index snapshot in the model store.</summary>
[GenerateSerializer, Immutable, Alias("mic.model-version.v1")]
public sealed record ModelVersionInfo(
    [property: Id(0)] long Version,
    [property: Id(1)] string Path,
    [property: Id(2)] DateTimeOffset PublishedUtc,
    [property: Id(3)] string Description)
{
    /// <summary>Produce time (Unix ms) of the oldest event this version is the first to have trained on (0 = not from the stream).</summary>
    [Id(4)] public long OldestNewEventMs { get; init; }

    /// <summary>Produce time (Unix ms) of the newest event this version trained on (0 = not from the stream).</summary>
    [Id(5)] public long NewestEventMs { get; init; }

    /// <summary>For a rollback: the version whose weights and indexes this one republished (0 = none).</summary>
    [Id(6)] public long RolledBackFrom { get; init; }
}

/// <summary>The input of the user tower: the last item ids (oldest first) and the newest event id.</summary>
[GenerateSerializer, Immutable, Alias("mic.recent-items.v1")]
public sealed record RecentItems(
    [property: Id(0)] string[] Items,
    [property: Id(1)] string? NewestEventId,
    [property: Id(2)] IReadOnlyDictionary<string, string>? Fields);

/// <summary>What the trainer is doing, for the API, the demo and tests.</summary>
[GenerateSerializer, Immutable, Alias("mic.trainer-status.v1")]
public sealed record TrainerStatus(
    [property: Id(0)] string Silo,
    [property: Id(1)] string State,
    [property: Id(2)] long PublishedVersion,
    [property: Id(3)] long EventsSeen,
    [property: Id(4)] long EventsTrained,
    [property: Id(5)] int Updates,
    [property: Id(6)] long Users,
    [property: Id(7)] long Items,
    [property: Id(8)] int WindowExamples,
    [property: Id(9)] double LastUpdateSeconds,
    [property: Id(10)] double ExamplesPerSecond,
    [property: Id(11)] OnlineRecall[] Online,
    [property: Id(12)] string? LastError,
    [property: Id(13)] UpdatePhases? LastCycle);

/// <summary>
/// Where the seconds of the last update cycle went, in order: building the catalog snapshot,
/// growing the tables, rebuilding the support sets, the optimisation steps, writing the version
/// (export + indexes + checkpoint) and registering it, and loading it for prequential scoring.
/// </summary>
[GenerateSerializer, Immutable, Alias("mic.update-phases.v1")]
public sealed record UpdatePhases(
    [property: Id(0)] double Catalog,
    [property: Id(1)] double Grow,
    [property: Id(2)] double Support,
    [property: Id(3)] double Steps,
    [property: Id(4)] double Publish,
    [property: Id(5)] double Reload)
{
    public double Total => Catalog + Grow + Support + Steps + Publish + Reload;
}

/// <summary>Prequential (test-then-train) recall of one channel over the recent evaluation window.</summary>
[GenerateSerializer, Immutable, Alias("mic.online-recall.v1")]
public sealed record OnlineRecall(
    [property: Id(0)] string Channel,
    [property: Id(1)] string Model,
    [property: Id(2)] int K,
    [property: Id(3)] long Evaluated,
    [property: Id(4)] double Recall,
    [property: Id(5)] double HitRate);
