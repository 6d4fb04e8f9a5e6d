using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Faiss;

/// <summary>Distance of a Faiss index.</summary>
public enum FaissMetric
{
    /// <summary>Inner product (cosine on unit vectors): higher is better.</summary>
    InnerProduct = 0,

    /// <summary>Squared L2: reported as its negation so that, like every IVectorIndex, higher is better.</summary>
    L2 = 1,
}

/// <summary>
/// A Faiss index behind <see cref="IVectorIndex"/>: built from a factory string ("Flat",
/// "IVF1024,Flat", "HNSW32", …; indexes that cannot hold ids are wrapped in IDMap), trained, filled
/// with ids, then searched concurrently. Search parameters (nprobe, efSearch) are set before the
/// index is published and stay fixed; a change means a new snapshot.
/// </summary>
public sealed unsafe class FaissIndex : IVectorIndex
{
    private readonly FaissIndexHandle _handle;

    private FaissIndex(FaissIndexHandle handle, string description, FaissMetric metric)
    {
        _handle = handle;
        Description = description;
        Metric = metric;
        FaissNative.Check(FaissNative.Info(handle, out _, out var dim, out _), "info");
        Dimension = dim;
    }

    public string Description { get; }

    public FaissMetric Metric { get; }

    public int Dimension { get; }

    /// <summary>OpenMP threads for one single-query search (1: concurrency comes from .NET callers).</summary>
    public int SingleQueryThreads { get; init; } = 1;

    public long Count
    {
        get
        {
            FaissNative.Check(FaissNative.Info(_handle, out var n, out _, out _), "info");
            return n;
        }
    }

    public bool IsTrained
    {
        get
        {
            FaissNative.Check(FaissNative.Info(_handle, out _, out _, out var trained), "info");
            return trained != 0;
        }
    }

    /// <summary>Live native indexes in this process (for leak tests).</summary>
    public static long LiveNativeIndexes => FaissNative.LiveIndexes();

    /// <summary>
    /// Whether Faiss's per-vector distance kernels run the AVX2 + FMA versions linked in by our shim
    /// (native/distance_kernels.cpp) rather than the portable loop (CPUs without them).
    /// </summary>
    public static bool SimdDistanceKernels => FaissNative.SimdKernels() != 0;

    public static FaissIndex Create(int dimension, string description, FaissMetric metric = FaissMetric.InnerProduct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        FaissNative.Check(FaissNative.IndexFactory(dimension, description, (int)metric, out var raw), $"index_factory(\"{description}\")");
        return new FaissIndex(FaissNative.Wrap(raw), description, metric);
    }

    /// <summary>Reads an index written by <see cref="Save"/>; a missing or corrupt file gives a clear error.</summary>
    public static FaissIndex Load(string path, FaissMetric metric = FaissMetric.InnerProduct)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Faiss index file not found: {path}", path);
        }

        FaissNative.Check(FaissNative.Read(path, out var raw), $"read_index({path})");
        return new FaissIndex(FaissNative.Wrap(raw), Path.GetFileName(path), metric);
    }

    public void Train(ReadOnlySpan<float> vectors, int threads = 0)
    {
        CheckRows(vectors);
        fixed (float* x = vectors)
        {
            FaissNative.Check(FaissNative.Train(_handle, vectors.Length / Dimension, x, threads), "train");
        }
    }

    public void Add(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int threads = 0)
    {
        CheckRows(vectors);
        if (ids.Length != vectors.Length / Dimension)
        {
            throw new ArgumentException("One id per vector is required.", nameof(ids));
        }

        fixed (float* x = vectors)
        fixed (long* i = ids)
        {
            FaissNative.Check(FaissNative.AddWithIds(_handle, ids.Length, x, i, threads), "add_with_ids");
        }
    }

    public int Search(ReadOnlySpan<float> query, int k, Span<SearchHit> hits)
    {
        if (query.Length != Dimension)
        {
            throw new ArgumentException($"Query has dimension {query.Length}; the index has {Dimension}.", nameof(query));
        }

        k = Math.Min(k, hits.Length);
        if (k <= 0)
        {
            return 0;
        }

        Span<float> scores = k <= 512 ? stackalloc float[k] : new float[k];
        Span<long> ids = k <= 512 ? stackalloc long[k] : new long[k];
        SearchBatch(query, k, scores, ids, SingleQueryThreads);
        var n = 0;
        for (var i = 0; i < k; i++)
        {
            if (ids[i] >= 0)
            {
                hits[n++] = new SearchHit(ids[i], scores[i]);
            }
        }

        return n;
    }

    /// <summary>One native call for several queries (single-threaded like <see cref="Search"/>).</summary>
    public void SearchMany(ReadOnlySpan<float> queries, int k, Span<SearchHit> hits, Span<int> counts)
    {
        var q = queries.Length / Dimension;
        var scores = new float[q * k];
        var ids = new long[q * k];
        SearchBatch(queries, k, scores, ids, SingleQueryThreads);
        for (var i = 0; i < q; i++)
        {
            var n = 0;
            for (var j = 0; j < k; j++)
            {
                if (ids[(i * k) + j] >= 0)
                {
                    hits[(i * k) + n++] = new SearchHit(ids[(i * k) + j], scores[(i * k) + j]);
                }
            }

            counts[i] = n;
        }
    }

    /// <summary>Batched search: queries [q, D] → scores and ids [q, k] (id −1 where fewer than k exist).</summary>
    public void SearchBatch(ReadOnlySpan<float> queries, int k, Span<float> scores, Span<long> ids, int threads = 0)
    {
        CheckRows(queries);
        var q = queries.Length / Dimension;
        if (scores.Length < q * k || ids.Length < q * k)
        {
            throw new ArgumentException("Result buffers must hold queries × k entries.");
        }

        var added = false;
        _handle.DangerousAddRef(ref added); // the index cannot be freed while this search runs
        try
        {
            fixed (float* x = queries)
            fixed (float* d = scores)
            fixed (long* l = ids)
            {
                FaissNative.Check(FaissNative.Search(_handle, q, x, k, d, l, threads), "search");
            }
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }

        if (Metric == FaissMetric.L2)
        {
            for (var i = 0; i < q * k; i++)
            {
                scores[i] = -scores[i];
            }
        }
    }

    /// <summary>Removes ids where the index type supports it (Flat, IVF); returns how many were removed.</summary>
    public long Remove(ReadOnlySpan<long> ids)
    {
        fixed (long* i = ids)
        {
            FaissNative.Check(FaissNative.RemoveIds(_handle, ids.Length, i, out var removed), "remove_ids");
            return removed;
        }
    }

    /// <summary>Sets a search parameter by name (nprobe, efSearch). Call before publishing, never during searches.</summary>
    public void SetParameter(string name, double value) => FaissNative.Check(FaissNative.SetParam(_handle, name, value), $"set {name}={value}");

    public void Save(string path) => FaissNative.Check(FaissNative.Write(_handle, path), $"write_index({path})");

    public void Dispose() => _handle.Dispose();

    private void CheckRows(ReadOnlySpan<float> vectors)
    {
        if (vectors.Length == 0 || vectors.Length % Dimension != 0)
        {
            throw new ArgumentException($"Expected a non-empty [n, {Dimension}] row-major matrix.");
        }
    }
}
