using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Faiss.Tests;

/// <summary>The contract every IVectorIndex honours, run against the managed exact index and Faiss.</summary>
public class VectorIndexContractTests
{
    internal static readonly EmbeddingMatrix Data = TestVectors.Clustered(2000, 16, 20, seed: 1);
    internal static readonly long[] Ids = TestVectors.Ids(2000, offset: 1_000_000);
    private static readonly EmbeddingMatrix Queries = TestVectors.Clustered(50, 16, 20, seed: 2);

    public static TheoryData<string> Kinds => new(["exact", "faiss-flat", "faiss-ivf-full-probe", "sharded-faiss-flat"]);

    internal static IVectorIndex Create(string kind) => kind switch
    {
        "exact" => new ExactIndex(Data, Ids),
        "faiss-flat" => Faiss("Flat", Data, Ids),
        "faiss-ivf-full-probe" => Faiss("IVF16,Flat", Data, Ids, nprobe: 16),
        "sharded-faiss-flat" => ShardedIndex.Build(Data, Ids, 3, (m, i) => Faiss("Flat", m, i)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    internal static FaissIndex Faiss(string spec, EmbeddingMatrix data, long[] ids, int nprobe = 0)
    {
        var f = FaissIndex.Create(data.Dimension, spec);
        if (!f.IsTrained)
        {
            f.Train(data.Data);
        }

        f.Add(data.Data, ids);
        if (nprobe > 0)
        {
            f.SetParameter("nprobe", nprobe);
        }

        return f;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Search_TopKEqualsExact_IdsPreserved(string kind)
    {
        using var index = Create(kind);
        using var exact = new ExactIndex(Data, Ids);
        var a = new SearchHit[10];
        var b = new SearchHit[10];

        Assert.Equal(2000, index.Count);
        for (var q = 0; q < Queries.Rows; q++)
        {
            var n = index.Search(Queries.Row(q), 10, a);
            exact.Search(Queries.Row(q), 10, b);
            Assert.Equal(10, n);
            Assert.Equal(b.Select(h => h.Id), a.Select(h => h.Id));
            Assert.All(a.Zip(b), p => Assert.Equal(p.Second.Score, p.First.Score, 4));
            Assert.All(a, h => Assert.Contains(h.Id, Ids));
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Search_KLargerThanCollection_ReturnsAll(string kind)
    {
        using var index = Create(kind);
        var hits = new SearchHit[2500];

        Assert.Equal(2000, index.Search(Queries.Row(0), 2500, hits));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Search_Concurrent_SameAnswersAsSequential(string kind)
    {
        using var index = Create(kind);
        var expected = Enumerable.Range(0, Queries.Rows).Select(q =>
        {
            var h = new SearchHit[20];
            index.Search(Queries.Row(q), 20, h);
            return h.Select(x => x.Id).ToArray();
        }).ToArray();

        var tasks = Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            var h = new SearchHit[20];
            for (var i = 0; i < 200; i++)
            {
                var q = (i + t) % Queries.Rows;
                index.Search(Queries.Row(q), 20, h);
                Assert.Equal(expected[q], h.Select(x => x.Id));
            }
        }));
        await Task.WhenAll(tasks);
    }

    [Fact]
    public void Faiss_SaveLoad_RoundTripGivesIdenticalTopK()
    {
        using var dir = new TempDir();
        using var index = (FaissIndex)Create("faiss-ivf-full-probe");
        var path = Path.Combine(dir.Path, "i.faiss");

        index.Save(path);
        using var loaded = FaissIndex.Load(path);

        var a = new SearchHit[10];
        var b = new SearchHit[10];
        for (var q = 0; q < 10; q++)
        {
            index.Search(Queries.Row(q), 10, a);
            loaded.Search(Queries.Row(q), 10, b);
            Assert.Equal(a, b);
        }
    }

    [Theory]
    [InlineData("Flat")]
    [InlineData("IVF16,Flat")]
    public void Faiss_Remove_IdsNoLongerReturned(string spec)
    {
        using var index = Faiss(spec, Data, Ids, nprobe: spec.StartsWith("IVF", StringComparison.Ordinal) ? 16 : 0);
        var hits = new SearchHit[5];
        index.Search(Queries.Row(0), 5, hits);
        var removedIds = hits.Select(h => h.Id).ToArray();

        var removed = index.Remove(removedIds);
        index.Search(Queries.Row(0), 5, hits);

        Assert.Equal(5, removed);
        Assert.Equal(1995, index.Count);
        Assert.Empty(hits.Select(h => h.Id).Intersect(removedIds));
    }

    [Fact]
    public void Faiss_RemoveOnHnsw_FailsWithFaissText()
    {
        using var index = Faiss("HNSW8", Data, Ids);

        var e = Assert.Throws<FaissException>(() => index.Remove([Ids[0]]));

        Assert.Contains("remove_ids", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Faiss_BadFactoryString_FailsWithFaissText()
    {
        var e = Assert.Throws<FaissException>(() => FaissIndex.Create(16, "NoSuchIndex42"));

        Assert.Contains("NoSuchIndex42", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Faiss_MissingOrCorruptFile_ClearErrors()
    {
        using var dir = new TempDir();
        var missing = Path.Combine(dir.Path, "none.faiss");
        var corrupt = dir.Write("bad.faiss", "this is not a faiss index");

        Assert.Contains("none.faiss", Assert.Throws<FileNotFoundException>(() => FaissIndex.Load(missing)).Message, StringComparison.Ordinal);
        var e = Assert.Throws<FaissException>(() => FaissIndex.Load(corrupt));
        Assert.Contains("bad.faiss", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Faiss_WrongDimension_Throws()
    {
        using var index = Create("faiss-flat");

        Assert.Throws<ArgumentException>(() => index.Search(new float[3], 5, new SearchHit[5]));
    }
}

/// <summary>Counts live native indexes process-wide, so it must not run beside other Faiss tests.</summary>
[CollectionDefinition("native-count", DisableParallelization = true)]
public class NativeCountGroup
{
}

[Collection("native-count")]
public class FaissDisposalTests
{
    [Fact]
    public void Faiss_Dispose_FreesNativeIndex()
    {
        var before = FaissIndex.LiveNativeIndexes;
        var index = VectorIndexContractTests.Faiss("Flat", VectorIndexContractTests.Data, VectorIndexContractTests.Ids);
        Assert.Equal(before + 1, FaissIndex.LiveNativeIndexes);

        index.Dispose();
        index.Dispose(); // idempotent

        Assert.Equal(before, FaissIndex.LiveNativeIndexes);
    }
}
