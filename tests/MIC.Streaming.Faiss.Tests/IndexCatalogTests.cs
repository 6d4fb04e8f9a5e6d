using MIC.Streaming.Core.Data;
using MIC.Streaming.Retrieval.Channels;
using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Faiss.Tests;

public class IndexCatalogTests
{
    private static readonly SequenceTable Histories = new([0, 2, 4], [0, 1, 2, 3], new long[4]);

    /// <summary>A version whose item ids all encode the version (id = version·1000 + row).</summary>
    private static RetrievalSpaces Version(long version, bool faiss)
    {
        var items = TestVectors.Clustered(300, 8, 6, (int)version);
        var ids = Enumerable.Range(0, 300).Select(i => (version * 1000) + i).ToArray();
        IVectorIndex Build(EmbeddingMatrix m, long[] i)
        {
            if (!faiss)
            {
                return new ExactIndex(m, i);
            }

            var f = FaissIndex.Create(m.Dimension, "Flat");
            f.Add(m.Data, i);
            return f;
        }

        var users = TestVectors.Clustered(2, 8, 2, 9);
        return new RetrievalSpaces(ShardedIndex.Build(items, ids, 2, Build), items, Build(items, ids), items, new ExactIndex(users, [0, 1]), users, [0, 1], Histories);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Swap_UnderConcurrentLoad_NeverFailsNeverMixesVersions(bool faiss)
    {
        using var catalog = new IndexCatalog();
        catalog.Publish(Version(1, faiss), 1);
        var query = TestVectors.Clustered(1, 8, 1, 5).Data;
        using var stop = new CancellationTokenSource();
        var failures = 0;
        var torn = 0;
        long answered = 0;
        // Dedicated threads: on a loaded CI box thread-pool tasks may not start before every swap is done.
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Factory.StartNew(() =>
        {
            var hits = new SearchHit[20];
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var lease = catalog.Acquire();
                    var n = lease.Snapshot.Spaces.ItemRelevanceIndex.Search(query, 20, hits);
                    var versions = hits.Take(n).Select(h => h.Id / 1000).Distinct().ToArray();
                    if (n == 0 || versions.Length != 1 || versions[0] != lease.Snapshot.Version)
                    {
                        Interlocked.Increment(ref torn);
                    }

                    Interlocked.Increment(ref answered);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        var released = new List<IndexSnapshot>();
        for (var v = 2; v <= 101; v++)
        {
            using (var lease = catalog.Acquire())
            {
                released.Add(lease.Snapshot);
            }

            catalog.Publish(Version(v, faiss), v);

            // Every version must actually be queried while the next swap happens, however slow the machine.
            var seen = Interlocked.Read(ref answered);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Interlocked.Read(ref answered) < seen + 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(1);
            }
        }

        await Task.Delay(50);
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        Assert.Equal(0, failures);
        Assert.Equal(0, torn);
        Assert.True(answered >= 200, $"only {answered} queries ran");
        Assert.Equal(101, catalog.CurrentVersion);
        Assert.All(released, s => Assert.True(s.IsReleased)); // every old version was freed once its leases ended
    }

    [Fact]
    public void Acquire_BeforePublish_ClearError()
    {
        using var catalog = new IndexCatalog();

        Assert.Throws<InvalidOperationException>(() => catalog.Acquire());
    }

    [Fact]
    public void Lease_KeepsOldVersionAliveUntilDisposed()
    {
        using var catalog = new IndexCatalog();
        catalog.Publish(Version(1, faiss: true), 1);
        var lease = catalog.Acquire();

        catalog.Publish(Version(2, faiss: true), 2);
        var hits = new SearchHit[5];

        Assert.False(lease.Snapshot.IsReleased);
        Assert.Equal(5, lease.Snapshot.Spaces.ItemOwnIndex.Search(TestVectors.Clustered(1, 8, 1, 3).Data, 5, hits));
        var trims = NativeHeapTrim.Trims;
        lease.Dispose();
        Assert.True(lease.Snapshot.IsReleased);

        // And the freed native memory is handed back to the OS (malloc_trim), not kept by malloc
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (NativeHeapTrim.Trims == trims && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        Assert.True(NativeHeapTrim.Trims > trims, "no heap trim after the version was released");
    }
}
