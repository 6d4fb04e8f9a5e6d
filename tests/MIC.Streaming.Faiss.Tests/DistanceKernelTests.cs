using System.Runtime.Intrinsics.X86;
using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Faiss.Tests;

/// <summary>
/// The SIMD distance kernels our shim links in place of Faiss's scalar ones
/// (native/distance_kernels.cpp): chosen by CPU, and exact up to float rounding for every
/// dimension, including tails that are not a multiple of the vector width.
/// </summary>
public class DistanceKernelTests
{
    [Fact]
    public void SimdKernels_AreUsed_ExactlyWhenTheCpuHasAvx2AndFma() =>
        Assert.Equal(Avx2.IsSupported && Fma.IsSupported, FaissIndex.SimdDistanceKernels);

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(13)]
    [InlineData(24)]
    [InlineData(37)]
    [InlineData(128)]
    public void FlatSearch_Scores_MatchDoublePrecisionDistances(int dim)
    {
        // A flat index searched one query at a time scores every vector with the kernel
        // (fvec_inner_product / fvec_L2sqr), so its scores are the kernels' own output.
        var rng = new Random(dim);
        var data = Enumerable.Range(0, 40 * dim).Select(_ => (float)(rng.NextDouble() * 2) - 1).ToArray();
        var query = Enumerable.Range(0, dim).Select(_ => (float)(rng.NextDouble() * 2) - 1).ToArray();
        var ids = Enumerable.Range(0, 40).Select(i => (long)i).ToArray();

        foreach (var metric in new[] { FaissMetric.InnerProduct, FaissMetric.L2 })
        {
            using var index = FaissIndex.Create(dim, "Flat", metric);
            index.Add(data, ids);
            var hits = new SearchHit[40];
            Assert.Equal(40, index.Search(query, 40, hits));
            foreach (var hit in hits)
            {
                var row = data.AsSpan((int)hit.Id * dim, dim);
                double expected = 0;
                for (var j = 0; j < dim; j++)
                {
                    expected += metric == FaissMetric.InnerProduct
                        ? (double)row[j] * query[j]
                        : ((double)row[j] - query[j]) * ((double)row[j] - query[j]);
                }

                var score = metric == FaissMetric.InnerProduct ? expected : -expected;
                Assert.True(Math.Abs(score - hit.Score) <= 1e-4 * Math.Max(1, Math.Abs(score)),
                    $"{metric} d={dim} id={hit.Id}: Faiss {hit.Score}, expected {score}");
            }
        }
    }
}
