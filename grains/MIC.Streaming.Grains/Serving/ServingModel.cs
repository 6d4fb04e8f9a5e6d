using System.Diagnostics;
using MIC.Streaming.Retrieval.Channels;
using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Grains.Serving;

/// <summary>Raised when a query arrives before any model version has been loaded (the API answers 503).</summary>
public sealed class ServingNotReadyException() : Exception("No model version is loaded yet on this silo.");

/// <summary>
/// The silo-wide serving state: the current <see cref="ServingVersion"/> (user tower + indexes) in
/// an <see cref="IndexCatalog"/>, swapped atomically when a new version is loaded. A query leases
/// one snapshot for its whole duration, so tower and indexes always come from the same version.
/// Thread-safe; no Tensor leaves <see cref="Retrieve"/>.
/// </summary>
public sealed class ServingModel(ChannelOptions channelOptions, ServingInstruments instruments) : IDisposable
{
    private readonly IndexCatalog _catalog = new();

    public long CurrentVersion => _catalog.CurrentVersion;

    public bool IsReady => _catalog.HasSnapshot;

    /// <summary>Makes <paramref name="version"/> current; the previous one is freed after its last query.</summary>
    public void Publish(ServingVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        _catalog.Publish(version.Spaces, version.Info.Version, version);
        instruments.ModelVersion = version.Info.Version;
        instruments.RecordSwap(version.Info);
    }

    /// <summary>Candidates for one user from the live sequence <paramref name="recent"/>.</summary>
    public CandidateResponse Retrieve(string userId, RecentItems recent, int k, RetrievalChannels channels)
    {
        ArgumentNullException.ThrowIfNull(recent);
        if (!_catalog.HasSnapshot)
        {
            throw new ServingNotReadyException();
        }

        var started = Stopwatch.GetTimestamp();
        using var lease = _catalog.Acquire();
        var version = (ServingVersion)lease.Snapshot.Payload!;
        var known = KnownItems(version, recent.Items);
        var history = known.Length > version.MaxHistory ? known[^version.MaxHistory..] : known;
        var seen = new HashSet<int>(known); // everything in the live window is excluded, not only the tower's input
        var set = ToChannelSet(channels);
        List<ServedCandidate> items;
        bool coldStart;
        if (history.Length == 0 || set == ChannelSet.None)
        {
            coldStart = true;
            items = new List<ServedCandidate>(k);
        }
        else
        {
            coldStart = false;
            var userIndex = version.Users.TryGetIndex(userId, out var u) ? u : -1;
            var towerStarted = Stopwatch.GetTimestamp();
            var query = version.Tower.Encode([history], [userIndex])[0];
            var channelsStarted = Stopwatch.GetTimestamp();
            var found = MultiChannelRetriever.Retrieve(version.Spaces, query, k + seen.Count, set, channelOptions, instruments.RecordChannel);
            instruments.TowerMs.Add(Stopwatch.GetElapsedTime(towerStarted, channelsStarted).TotalMilliseconds);
            instruments.ChannelsMs.Add(Stopwatch.GetElapsedTime(channelsStarted).TotalMilliseconds);
            items = new List<ServedCandidate>(k);
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
        }

        TopUpWithPopular(version, items, seen, k);
        instruments.RecordQuery(Stopwatch.GetElapsedTime(started), coldStart);
        return new CandidateResponse(userId, version.Info.Version, coldStart, history.Length, [.. items], recent.NewestEventId);
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
