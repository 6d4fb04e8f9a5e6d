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
}
