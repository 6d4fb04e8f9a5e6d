using MIC.Streaming.Retrieval.Channels;

namespace MIC.Streaming.Retrieval.Index;

/// <summary>
/// One immutable version of the retrieval spaces (item shared-space index for U2I, item own-space
/// index for U2I2I, user own-space index for U2U2I). Reference-counted: the catalog holds one
/// reference while the snapshot is current and every in-flight query holds one through a lease;
/// the native memory is freed when the last reference goes.
/// </summary>
public sealed class IndexSnapshot
{
    private int _references = 1; // the catalog's

    private readonly RetrievalSpaces? _spaces;

    internal IndexSnapshot(long version, RetrievalSpaces? spaces, object? payload)
    {
        Version = version;
        _spaces = spaces;
        Payload = payload;
    }

    public long Version { get; }

    /// <summary>False when the version's indexes live elsewhere (sharded serving: in shard grains).</summary>
    public bool HasSpaces => _spaces is not null;

    public RetrievalSpaces Spaces => _spaces ?? throw new InvalidOperationException($"Version {Version} has no local indexes (it is served sharded).");

    /// <summary>What else belongs to this version (e.g. the user tower that matches these indexes).</summary>
    public object? Payload { get; }

    public bool IsReleased => Volatile.Read(ref _references) == 0;

    internal bool TryAddReference()
    {
        while (true)
        {
            var current = Volatile.Read(ref _references);
            if (current == 0)
            {
                return false; // already released: the caller must re-read the catalog
            }

            if (Interlocked.CompareExchange(ref _references, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    internal void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _spaces?.Dispose();
            (Payload as IDisposable)?.Dispose();
            NativeHeapTrim.Request(); // give the freed indexes and tensors back to the OS, not only to malloc
        }
    }
}

/// <summary>A query's hold on one snapshot; dispose it when the query is done.</summary>
public readonly struct SnapshotLease : IDisposable
{
    internal SnapshotLease(IndexSnapshot snapshot) => Snapshot = snapshot;

    public IndexSnapshot Snapshot { get; }

    public void Dispose() => Snapshot?.Release();
}

/// <summary>
/// The current index version, swapped atomically. A new version is built aside and published; the
/// previous one is released by the catalog and freed once its last lease ends, so a query never sees
/// two versions and never touches freed native memory.
/// </summary>
public sealed class IndexCatalog : IDisposable
{
    private IndexSnapshot? _current;

    public long CurrentVersion => Volatile.Read(ref _current)?.Version ?? 0;

    public bool HasSnapshot => Volatile.Read(ref _current) is not null;

    /// <summary>Publishes a new version; returns the version number.</summary>
    public long Publish(RetrievalSpaces? spaces, long version, object? payload = null)
    {
        if (spaces is null && payload is null)
        {
            throw new ArgumentException("A snapshot needs local indexes or a payload that serves without them.", nameof(spaces));
        }

        var next = new IndexSnapshot(version, spaces, payload);
        var previous = Interlocked.Exchange(ref _current, next);
        previous?.Release();
        return version;
    }

    /// <summary>Takes a lease on the current snapshot (throws when nothing was published yet).</summary>
    public SnapshotLease Acquire()
    {
        while (true)
        {
            var snapshot = Volatile.Read(ref _current) ?? throw new InvalidOperationException("No index snapshot has been published yet.");
            if (snapshot.TryAddReference())
            {
                return new SnapshotLease(snapshot);
            }
        }
    }

    public void Dispose() => Interlocked.Exchange(ref _current, null)?.Release();
}
