namespace MIC.Streaming.Retrieval.Index;

/// <summary>One search hit: the stored id and its score (inner product; cosine on unit vectors).</summary>
public readonly record struct SearchHit(long Id, float Score);

/// <summary>
/// A k-nearest-neighbour index over vectors with long ids, searched by inner product.
/// Implementations are safe for concurrent searches; they are built once and then only searched
/// (a new version is built aside and swapped, see the index catalog).
/// To add a backend: 1. implement this; 2. run the contract tests against it; 3. add it to the bench.
/// </summary>
public interface IVectorIndex : IDisposable
{
    int Dimension { get; }

    long Count { get; }

    /// <summary>Top-k by descending inner product; returns the number of hits written (≤ k).</summary>
    int Search(ReadOnlySpan<float> query, int k, Span<SearchHit> hits);

    /// <summary>
    /// Several queries ([q, D] row-major) at once: hits[i·k..] and counts[i] per query. Backends
    /// override it with one native call (Faiss); the default searches one by one.
    /// </summary>
    void SearchMany(ReadOnlySpan<float> queries, int k, Span<SearchHit> hits, Span<int> counts)
    {
        var q = queries.Length / Dimension;
        for (var i = 0; i < q; i++)
        {
            counts[i] = Search(queries.Slice(i * Dimension, Dimension), k, hits.Slice(i * k, k));
        }
    }
}
