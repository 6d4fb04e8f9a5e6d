using System.Diagnostics;
using MIC.Streaming.Grains.Serving.Sharding;
using MIC.Streaming.Retrieval.Channels;
using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Grains.Serving;

/// <summary>Raised when a query arrives before any model version has been loaded (the API answers 503).</summary>
public sealed class ServingNotReadyException() : Exception("No model version is loaded yet on this silo.");

/// <summary>
/// The silo-wide serving state: the current <see cref="ServingVersion"/> (user tower + indexes) in
/// an <see cref="IndexCatalog"/>, swapped atomically when a new version is loaded. A query leases
/// one snapshot for its whole duration, so tower and indexes always come from the same version; in
/// sharded serving the version's number goes with every shard call, so the shards answer from that
/// version too. Thread-safe; no Tensor leaves <see cref="Retrieve"/>.
/// </summary>
public sealed class ServingModel : IDisposable
{
    private readonly IndexCatalog _catalog = new();
    private readonly ChannelOptions _channelOptions;
    private readonly ServingInstruments _instruments;
    private readonly IShardSetFactory? _shardSets;

    /// <summary>Replicated serving only (the trainer's evaluation, benchmarks).</summary>
    public ServingModel(ChannelOptions channelOptions, ServingInstruments instruments)
        : this(channelOptions, instruments, null)
    {
    }

    /// <summary>On a silo: sharded versions are queried through <paramref name="shardSets"/>.</summary>
    [Microsoft.Extensions.DependencyInjection.ActivatorUtilitiesConstructor]
    public ServingModel(ChannelOptions channelOptions, ServingInstruments instruments, IShardSetFactory? shardSets)
    {
        _channelOptions = channelOptions;
        _instruments = instruments;
        _shardSets = shardSets;
    }

    public long CurrentVersion => _catalog.CurrentVersion;

    public bool IsReady => _catalog.HasSnapshot;

    /// <summary>Makes <paramref name="version"/> current; the previous one is freed after its last query.</summary>
    public void Publish(ServingVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.Spaces is null && _shardSets is null)
        {
            throw new InvalidOperationException($"Version {version.Info.Version} is sharded, and this serving model has no shard set factory.");
        }

        _catalog.Publish(version.Spaces, version.Info.Version, version);
        _instruments.ModelVersion = version.Info.Version;
        _instruments.RecordSwap(version.Info);
    }

    /// <summary>Candidates for one user from the live sequence <paramref name="recent"/> (replicated versions only).</summary>
    public CandidateResponse Retrieve(string userId, RecentItems recent, int k, RetrievalChannels channels)
    {
        ArgumentNullException.ThrowIfNull(recent);
        using var lease = Lease();
        var version = (ServingVersion)lease.Snapshot.Payload!;
        return RetrieveLocal(version, version.Spaces ?? throw new InvalidOperationException($"Version {version.Info.Version} is sharded: use RetrieveAsync."), userId, recent, k, channels);
    }

    private CandidateResponse RetrieveLocal(ServingVersion version, RetrievalSpaces spaces, string userId, RecentItems recent, int k, RetrievalChannels channels)
    {
        var query = Prepare(version, userId, recent, k, channels);
        Candidate[] found = [];
        if (query.User is not null)
        {
            var started = Stopwatch.GetTimestamp();
            found = MultiChannelRetriever.Retrieve(spaces, query.User, query.Wanted, query.Set, _channelOptions, _instruments.RecordChannel);
            _instruments.ChannelsMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return Answer(version, userId, recent, query, found, partial: false);
    }

    /// <summary>Candidates for one user, replicated or sharded (then the shards of the leased version are queried).</summary>
    public async Task<CandidateResponse> RetrieveAsync(string userId, RecentItems recent, int k, RetrievalChannels channels)
    {
        ArgumentNullException.ThrowIfNull(recent);
        using var lease = Lease();
        var version = (ServingVersion)lease.Snapshot.Payload!;
        if (version.Spaces is { } spaces)
        {
            return RetrieveLocal(version, spaces, userId, recent, k, channels);
        }

        var query = Prepare(version, userId, recent, k, channels);
        Candidate[] found = [];
        var partial = false;
        if (query.User is not null)
        {
            var started = Stopwatch.GetTimestamp();
            var shards = _shardSets!.Create(version.Info.Version, version.Shards);
            var result = await ShardedRetriever.RetrieveAsync(shards, query.User, query.Wanted, query.Set, _channelOptions, version.Items.Count);
            _instruments.ChannelsMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            _instruments.RecordShardHops(result.Probe, result.Score, result.Partial);
            (found, partial) = (result.Items, result.Partial);
        }

        return Answer(version, userId, recent, query, found, partial);
    }

    private SnapshotLease Lease()
    {
        if (!_catalog.HasSnapshot)
        {
            throw new ServingNotReadyException();
        }

        return _catalog.Acquire();
    }

    /// <summary>What a query needs before the channels: the known history, what to exclude, the tower's vectors.</summary>
    private sealed record PreparedQuery(long Started, int HistoryLength, HashSet<int> Seen, ChannelSet Set, int K, UserQuery? User)
    {
        /// <summary>How many candidates the channels return: k plus everything that will be excluded.</summary>
        public int Wanted => K + Seen.Count;
    }

    private PreparedQuery Prepare(ServingVersion version, string userId, RecentItems recent, int k, RetrievalChannels channels)
    {
        var started = Stopwatch.GetTimestamp();
        var known = KnownItems(version, recent.Items);
        var history = known.Length > version.MaxHistory ? known[^version.MaxHistory..] : known;
        var seen = new HashSet<int>(known); // everything in the live window is excluded, not only the tower's input
        var set = ToChannelSet(channels);
        if (history.Length == 0 || set == ChannelSet.None)
        {
            return new PreparedQuery(started, history.Length, seen, set, k, null);
        }

        var userIndex = version.Users.TryGetIndex(userId, out var u) ? u : -1;
        var towerStarted = Stopwatch.GetTimestamp();
        var query = version.Tower.Encode([history], [userIndex])[0];
        _instruments.TowerMs.Add(Stopwatch.GetElapsedTime(towerStarted).TotalMilliseconds);
        return new PreparedQuery(started, history.Length, seen, set, k, query);
    }

    private CandidateResponse Answer(ServingVersion version, string userId, RecentItems recent, PreparedQuery query, Candidate[] found, bool partial)
    {
        var k = query.K;
        var seen = query.Seen;
        var items = new List<ServedCandidate>(k);
        foreach (var c in found)
        {
            if (items.Count == k)
            {
                break;
            }

            if (!seen.Contains(c.Item))
            {
                items.Add(new ServedCandidate(version.Items.GetRaw(c.Item), c.Score, (RetrievalChannels)(int)c.Channels));
                seen.Add(c.Item);
            }
        }

        TopUpWithPopular(version, items, seen, k);
        var coldStart = query.User is null;
        _instruments.RecordQuery(Stopwatch.GetElapsedTime(query.Started), coldStart);
        return new CandidateResponse(userId, version.Info.Version, coldStart, query.HistoryLength, [.. items], recent.NewestEventId) { Partial = partial };
    }

    public void Dispose() => _catalog.Dispose();

    /// <summary>Rows of the live items this version knows (new items are skipped until a model learns them).</summary>
    private static int[] KnownItems(ServingVersion version, string[] items)
    {
        var known = new List<int>(items.Length);
        foreach (var item in items)
        {
            if (version.Items.TryGetIndex(item, out var row))
            {
                known.Add(row);
            }
        }

        return [.. known];
    }

    /// <summary>Cold start and short answers: fill with the most popular unseen items.</summary>
    private static void TopUpWithPopular(ServingVersion version, List<ServedCandidate> items, HashSet<int> seen, int k)
    {
        var popular = version.Popular;
        for (var rank = 0; rank < popular.Length && items.Count < k; rank++)
        {
            if (seen.Add(popular[rank]))
            {
                items.Add(new ServedCandidate(version.Items.GetRaw(popular[rank]), 1f / (rank + 1), RetrievalChannels.Popular));
            }
        }
    }

    private static ChannelSet ToChannelSet(RetrievalChannels channels) => (ChannelSet)((int)channels & (int)ChannelSet.All);
}
