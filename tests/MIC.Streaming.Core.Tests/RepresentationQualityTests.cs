using MIC.Streaming.Core.Metrics;

namespace MIC.Streaming.Core.Tests;

public class RepresentationQualityTests
{
    [Fact]
    public void Alignment_IdenticalDirections_IsZero_OrthogonalIsTwo()
    {
        Assert.Equal(0, RepresentationQuality.Alignment([1, 0, 2, 0], [3, 0, 5, 0], 2), 6);
        Assert.Equal(2, RepresentationQuality.Alignment([1, 0], [0, 4], 2), 6);
    }

    [Fact]
    public void Uniformity_AntipodalPair_IsMinusEight()
    {
        // ‖x − y‖² = 4 → log exp(−2·4) = −8.
        Assert.Equal(-8, RepresentationQuality.Uniformity([1, 0, -1, 0], 2), 6);
    }

    [Fact]
    public void Uniformity_SpreadVectors_LowerThanCollapsed()
    {
        float[] spread = [1, 0, 0, 1, -1, 0, 0, -1];
        float[] collapsed = [1, 0, 0.99f, 0.1f, 0.98f, 0.2f, 0.97f, 0.15f];

        Assert.True(RepresentationQuality.Uniformity(spread, 2) < RepresentationQuality.Uniformity(collapsed, 2));
    }

    [Fact]
    public void Uniformity_SampledPairs_CloseToExact()
    {
        var rng = new Random(1);
        var v = Enumerable.Range(0, 200 * 8).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();

        var exact = RepresentationQuality.Uniformity(v, 8);
        var sampled = RepresentationQuality.Uniformity(v, 8, samplePairs: 20000, seed: 3);

        Assert.InRange(sampled - exact, -0.05, 0.05);
    }
}
