using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Faiss.Tests;

public class IndexPlannerTests
{
    [Fact]
    public void Build_SmallCollection_IsExact()
    {
        var data = TestVectors.Clustered(500, 8, 5, 1);

        var (index, report) = IndexPlanner.Build(data, TestVectors.Ids(500), new IndexBuildOptions { ExactBelow = 1000 });
        using (index)
        {
            Assert.Equal("Exact", report.Spec);
            Assert.IsType<ExactIndex>(index);
        }
    }

    [Fact]
    public void Build_LargeCollection_IvfTunedToTargetRecall()
    {
        var data = TestVectors.Clustered(20_000, 32, 50, 3);
        var queries = TestVectors.Clustered(100, 32, 50, 4);

        var (index, report) = IndexPlanner.Build(data, TestVectors.Ids(20_000), new IndexBuildOptions { ExactBelow = 1000, TargetRecall = 0.95, TuningQueries = 100 }, queries);
        using (index)
        {
            Assert.Equal($"IVF{IndexPlanner.Nlist(20_000)},Flat", report.Spec);
            Assert.NotNull(report.Nprobe);
            Assert.True(report.RecallAtK >= 0.95, $"recall {report.RecallAtK}");
            // Measured again, independently of the tuning pass.
            Assert.True(IndexPlanner.Recall(index, data, TestVectors.Ids(20_000), queries, 50) >= 0.95);
        }
    }

    [Fact]
    public void Nlist_FollowsFourRootN_AndNeverExceedsTrainableCount()
    {
        Assert.Equal(1265, IndexPlanner.Nlist(100_000));
        Assert.Equal(4000, IndexPlanner.Nlist(1_000_000));
        Assert.Equal(2, IndexPlanner.Nlist(100));
    }

    [Fact]
    public void KindFor_PicksTheLeastCompressedKindWithinTheBudget()
    {
        Assert.Equal("ivf-flat", IndexPlanner.KindFor(128, 0).Name);
        Assert.Equal("ivf-flat", IndexPlanner.KindFor(128, 520).Name);          // 4·128 + 8
        Assert.Equal("ivf-sq8", IndexPlanner.KindFor(128, 519).Name);
        Assert.Equal("ivf-pq64", IndexPlanner.KindFor(128, 135).Name);         // SQ8 needs 136
        Assert.Equal("ivf-pq16", IndexPlanner.KindFor(128, 30).Name);
        Assert.Equal("IVF100,PQ16", IndexPlanner.KindFor(128, 30).Spec(100));
        var error = Assert.Throws<ArgumentException>(() => IndexPlanner.KindFor(128, 10));
        Assert.Contains("ivf-pq8 at 16 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal("PQ7", IndexPlanner.Kind("ivf-pq7", 14).Encoding);
        Assert.Throws<ArgumentException>(() => IndexPlanner.Kind("ivf-pq7", 16));
    }

    [Fact]
    public void Build_WithinAByteBudget_StoresFewerBytes_AndAFloorItCannotReachFails()
    {
        var data = TestVectors.Clustered(12_000, 32, 40, 5);
        var queries = TestVectors.Clustered(100, 32, 40, 6);
        var ids = TestVectors.Ids(12_000);
        using var dir = new MIC.Streaming.Testing.TempDir();

        var (flat, flatReport) = IndexPlanner.Build(data, ids, new IndexBuildOptions { ExactBelow = 0, TuningQueries = 100 }, queries);
        var (sq8, sq8Report) = IndexPlanner.Build(data, ids, new IndexBuildOptions { ExactBelow = 0, TuningQueries = 100, MaxBytesPerVector = 4 * 32 }, queries);
        using (flat)
        using (sq8)
        {
            Assert.EndsWith(",Flat", flatReport.Spec, StringComparison.Ordinal);
            Assert.EndsWith(",SQ8", sq8Report.Spec, StringComparison.Ordinal);
            Assert.True(sq8Report.RecallAtK >= 0.9, $"SQ8 recall@50 {sq8Report.RecallAtK}");
            var flatFile = Path.Combine(dir.Path, "flat.faiss");
            var sq8File = Path.Combine(dir.Path, "sq8.faiss");
            ((FaissIndex)flat).Save(flatFile);
            ((FaissIndex)sq8).Save(sq8File);
            var ratio = new FileInfo(sq8File).Length / (double)new FileInfo(flatFile).Length;
            Assert.InRange(ratio, 0.2, 0.4); // (32 + 8) / (128 + 8) ≈ 0.29 plus the coarse quantizer
        }

        // PQ4 (4 one-byte codes for 32 dimensions) cannot reach recall@50 0.99 here: the build says so.
        var error = Assert.Throws<RecallFloorException>(() => IndexPlanner.Build(data, ids, new IndexBuildOptions { ExactBelow = 0, TuningQueries = 50, MaxBytesPerVector = 12, RecallFloor = 0.99 }, queries));
        Assert.Contains("< the floor 0.99", error.Message, StringComparison.Ordinal);
        Assert.Contains("PQ4", error.Message, StringComparison.Ordinal);
    }
}
