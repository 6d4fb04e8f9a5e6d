using System.Numerics.Tensors;
using MIC.Streaming.Core.Baselines;

namespace MIC.Streaming.Retrieval.Index;

/// <summary>
/// Exact inner-product search with SIMD dot products (System.Numerics.Tensors): the reference every
/// other index is tested against, and the right choice for small collections. Rows may be skipped
/// (e.g. users without history) by giving an id list.
/// </summary>
public sealed class ExactIndex : IVectorIndex
{
    private readonly float[] _vectors;
    private readonly long[] _ids;

    public ExactIndex(EmbeddingMatrix vectors, IReadOnlyList<long>? ids = null)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (ids is not null && ids.Count != vectors.Rows)
        {
            throw new ArgumentException("One id per vector is required.", nameof(ids));
        }

        _vectors = vectors.Data;
        Dimension = vectors.Dimension;
        _ids = ids?.ToArray() ?? Enumerable.Range(0, vectors.Rows).Select(i => (long)i).ToArray();
    }

    public int Dimension { get; }

    public long Count => _ids.Length;

    public int Search(ReadOnlySpan<float> query, int k, Span<SearchHit> hits)
    {
        if (query.Length != Dimension)
        {
            throw new ArgumentException($"Query has dimension {query.Length}; the index has {Dimension}.", nameof(query));
        }

        k = Math.Min(Math.Min(k, hits.Length), _ids.Length);
        if (k <= 0)
        {
            return 0;
        }

        var top = new TopKSelector(k);
        var d = Dimension;
        var threshold = float.NegativeInfinity; // the k-th best score once k rows are kept
        var vectors = _vectors.AsSpan();
        for (var r = 0; r < _ids.Length; r++)
        {
            var score = Dot(query, vectors.Slice(r * d, d));
            if (score >= threshold)
            {
                top.Add(r, score);
                if (top.Count == k)
                {
                    threshold = top.MinScore;
                }
            }
        }

        Span<int> rows = k <= 1024 ? stackalloc int[k] : new int[k];
        Span<float> scores = k <= 1024 ? stackalloc float[k] : new float[k];
        var n = top.Drain(rows, scores);
        for (var i = 0; i < n; i++)
        {
            hits[i] = new SearchHit(_ids[rows[i]], scores[i]);
        }

        return n;
    }

    /// <summary>Dot product with 256-bit vectors and two accumulators (dimensions are usually 64–256).</summary>
    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (!System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated || a.Length < 16)
        {
            return TensorPrimitives.Dot(a, b);
        }

        ref var pa = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
        ref var pb = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
        var acc0 = System.Runtime.Intrinsics.Vector256<float>.Zero;
        var acc1 = System.Runtime.Intrinsics.Vector256<float>.Zero;
        var i = 0;
        for (; i <= a.Length - 16; i += 16)
        {
            acc0 += System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref pa, (nuint)i) * System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref pb, (nuint)i);
            acc1 += System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref pa, (nuint)(i + 8)) * System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref pb, (nuint)(i + 8));
        }

        var sum = System.Runtime.Intrinsics.Vector256.Sum(acc0 + acc1);
        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    public void Dispose()
    {
        // Managed memory only.
    }
}
