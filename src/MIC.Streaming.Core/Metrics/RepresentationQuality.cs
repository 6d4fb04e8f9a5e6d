using System.Numerics.Tensors;

namespace MIC.Streaming.Core.Metrics;

/// <summary>
/// Alignment and uniformity of L2-normalised representations (Wang &amp; Isola, "Understanding
/// Contrastive Representation Learning through Alignment and Uniformity on the Hypersphere", ICML 2020):
/// alignment = E over positive pairs of ‖f(x) − f(y)‖^α (α = 2; lower is better);
/// uniformity = log E over pairs of exp(−t‖f(x) − f(y)‖²) (t = 2; lower is better).
/// Vectors are normalised here, so callers may pass raw embeddings.
/// </summary>
public static class RepresentationQuality
{
    /// <summary>Mean ‖a_i − b_i‖^alpha over aligned rows of two [n, dim] row-major matrices (user–item positive pairs).</summary>
    public static double Alignment(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int dim, double alpha = 2)
    {
        if (a.Length != b.Length || dim <= 0 || a.Length % dim != 0 || a.IsEmpty)
        {
            throw new ArgumentException("Both matrices must be non-empty [n, dim] with the same n.");
        }

        var n = a.Length / dim;
        var x = new float[dim];
        var y = new float[dim];
        var diff = new float[dim];
        double sum = 0;
        for (var i = 0; i < n; i++)
        {
            Normalise(a.Slice(i * dim, dim), x);
            Normalise(b.Slice(i * dim, dim), y);
            TensorPrimitives.Subtract(x, y, diff);
            var d2 = TensorPrimitives.Dot(diff, diff);
            sum += Math.Pow(d2, alpha / 2);
        }

        return sum / n;
    }

    /// <summary>
    /// log mean exp(−t‖x_i − x_j‖²) over all pairs i &lt; j of a [n, dim] matrix, or over
    /// <paramref name="samplePairs"/> random pairs (seeded) when n is large.
    /// </summary>
    public static double Uniformity(ReadOnlySpan<float> vectors, int dim, double t = 2, int samplePairs = 0, int seed = 0)
    {
        if (dim <= 0 || vectors.Length % dim != 0 || vectors.Length / dim < 2)
        {
            throw new ArgumentException("Need at least two [dim] rows.");
        }

        var n = vectors.Length / dim;
        var normalised = new float[vectors.Length];
        for (var i = 0; i < n; i++)
        {
            Normalise(vectors.Slice(i * dim, dim), normalised.AsSpan(i * dim, dim));
        }

        var terms = new List<double>();
        var allPairs = (long)n * (n - 1) / 2;
        if (samplePairs <= 0 || samplePairs >= allPairs)
        {
            for (var i = 0; i < n; i++)
            {
                for (var j = i + 1; j < n; j++)
                {
                    terms.Add(-t * SquaredDistance(normalised, i, j, dim));
                }
            }
        }
        else
        {
            var rng = new Random(seed);
            for (var s = 0; s < samplePairs; s++)
            {
                var i = rng.Next(n);
                var j = rng.Next(n - 1);
                if (j >= i)
                {
                    j++;
                }

                terms.Add(-t * SquaredDistance(normalised, i, j, dim));
            }
        }

        // log-mean-exp, stable.
        var max = terms.Max();
        var acc = terms.Sum(v => Math.Exp(v - max));
        return max + Math.Log(acc / terms.Count);
    }

    private static double SquaredDistance(float[] m, int i, int j, int dim)
    {
        var d = TensorPrimitives.Dot(m.AsSpan(i * dim, dim), m.AsSpan(j * dim, dim));
        return Math.Max(0, 2 - (2 * d)); // unit vectors: ‖x−y‖² = 2 − 2x·y
    }

    private static void Normalise(ReadOnlySpan<float> src, Span<float> dst)
    {
        var norm = TensorPrimitives.Norm(src);
        if (norm <= 0)
        {
            throw new ArgumentException("A zero vector has no direction.");
        }

        TensorPrimitives.Divide(src, norm, dst);
    }
}
