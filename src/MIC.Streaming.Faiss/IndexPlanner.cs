using System.Diagnostics;
using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Faiss;

/// <summary>How an index is chosen and tuned.</summary>
public sealed record IndexBuildOptions
{
    /// <summary>Collections smaller than this use the managed exact index.</summary>
    public int ExactBelow { get; init; } = 20_000;

    /// <summary>nprobe is raised until recall@<see cref="RecallK"/> against exact reaches this on the tuning queries.</summary>
    public double TargetRecall { get; init; } = 0.95;

    public int RecallK { get; init; } = 50;

    public int TuningQueries { get; init; } = 200;

    /// <summary>A Faiss factory string that overrides the size rule ("HNSW32", "IVF4096,Flat", "Flat"), or "Exact".</summary>
    public string? Spec { get; init; }

    public int Shards { get; init; } = 1;

    /// <summary>Item → item neighbours precomputed per version for U2I2I (0 = search at query time).</summary>
    public int ItemNeighbours { get; init; } = 50;

    public int Seed { get; init; } = 7;

    /// <summary>
    /// Memory per indexed vector the approximate index may use (0 = no limit: IVF-Flat). Below
    /// IVF-Flat's 4·D + 8 bytes the planner picks the least compressed of IVF-SQ8 (D + 8) and
    /// IVF-PQ (m + 8, m = D/2, D/4, D/8, D/16) that fits; see <see cref="IndexPlanner.Kinds"/>.
    /// </summary>
    public double MaxBytesPerVector { get; init; }

    /// <summary>
    /// The recall@<see cref="RecallK"/> the built index must reach after nprobe tuning, or the build
    /// fails naming the budget (0 = report whatever is reached).
    /// </summary>
    public double RecallFloor { get; init; }

    public void Validate()
    {
        if (ExactBelow < 0 || TargetRecall is <= 0 or > 1 || RecallK < 1 || TuningQueries < 1 || Shards < 1 || ItemNeighbours < 0 || MaxBytesPerVector < 0 || RecallFloor is < 0 or > 1)
        {
            throw new ArgumentException("Index options: ExactBelow ≥ 0, 0 < TargetRecall ≤ 1, RecallK ≥ 1, TuningQueries ≥ 1, Shards ≥ 1, MaxBytesPerVector ≥ 0, 0 ≤ RecallFloor ≤ 1.");
        }
    }
}

/// <summary>What was built: the spec, the tuned nprobe (IVF), the measured recall and the time.</summary>
public sealed record IndexBuildReport(string Spec, int Shards, int? Nprobe, double? RecallAtK, double BuildSeconds, double TuneSeconds);

/// <summary>A built index misses <see cref="IndexBuildOptions.RecallFloor"/>: the version must not be served.</summary>
public sealed class RecallFloorException(string message) : InvalidOperationException(message);

/// <summary>An approximate index kind: its Faiss factory string for nlist lists and its stored bytes per vector (codes + 8-byte id).</summary>
public sealed record IndexKind(string Name, string Encoding, double BytesPerVector)
{
    public string Spec(int nlist) => $"IVF{nlist},{Encoding}";
}

/// <summary>
/// Picks and builds an index for a collection: exact below a size threshold, else IVF-Flat with
/// nlist ≈ 4√n (HNSW in Faiss 1.7.3 showed poor recall on trained embeddings here), then raises
/// nprobe (1, 2, 4, …) until recall@K against exact reaches the target on a sample of queries.
/// </summary>
public static class IndexPlanner
{
    public const string ExactSpec = "Exact";

    public static int Nlist(long n) => (int)Math.Clamp(Math.Round(4 * Math.Sqrt(n)), 1, Math.Max(1, n / 39));

    /// <summary>
    /// The inverted-file kinds for dimension <paramref name="dimension"/>, least compressed first:
    /// ivf-flat (4·D floats), ivf-sq8 (one byte per dimension), ivf-pq{m} (m one-byte codes, m | D).
    /// Every kind also stores an 8-byte id per vector.
    /// </summary>
    public static IReadOnlyList<IndexKind> Kinds(int dimension)
    {
        var kinds = new List<IndexKind>
        {
            new("ivf-flat", "Flat", (4.0 * dimension) + 8),
            new("ivf-sq8", "SQ8", dimension + 8.0),
        };
        foreach (var m in new[] { dimension / 2, dimension / 4, dimension / 8, dimension / 16 })
        {
            if (m >= 1 && dimension % m == 0 && kinds.All(k => k.Name != $"ivf-pq{m}"))
            {
                kinds.Add(new($"ivf-pq{m}", $"PQ{m}", m + 8.0));
            }
        }

        return kinds;
    }

    /// <summary>A kind by name (ivf, ivf-flat, ivf-sq8, ivf-pq{m}) for this dimension.</summary>
    public static IndexKind Kind(string name, int dimension)
    {
        var wanted = name == "ivf" ? "ivf-flat" : name;
        if (wanted.StartsWith("ivf-pq", StringComparison.Ordinal) && int.TryParse(wanted["ivf-pq".Length..], out var m) && m >= 1 && dimension % m == 0)
        {
            return new IndexKind(wanted, $"PQ{m}", m + 8.0);
        }

        return Kinds(dimension).FirstOrDefault(k => k.Name == wanted)
            ?? throw new ArgumentException($"Unknown index kind '{name}' for dimension {dimension}; use ivf-flat, ivf-sq8 or ivf-pq<m> with m dividing {dimension}.", nameof(name));
    }

    /// <summary>The least compressed kind within <paramref name="maxBytesPerVector"/> (0 = no limit → ivf-flat).</summary>
    public static IndexKind KindFor(int dimension, double maxBytesPerVector)
    {
        var kinds = Kinds(dimension);
        if (maxBytesPerVector <= 0)
        {
            return kinds[0];
        }

        return kinds.FirstOrDefault(k => k.BytesPerVector <= maxBytesPerVector)
            ?? throw new ArgumentException($"No index kind fits {maxBytesPerVector} bytes per vector at dimension {dimension}; the smallest is {kinds[^1].Name} at {kinds[^1].BytesPerVector} bytes (add shards or raise the budget).", nameof(maxBytesPerVector));
    }

    public static string SpecFor(long n, IndexBuildOptions options, int dimension = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Spec is not null || n < options.ExactBelow)
        {
            return options.Spec ?? ExactSpec;
        }

        return options.MaxBytesPerVector > 0 && dimension > 0 ? KindFor(dimension, options.MaxBytesPerVector).Spec(Nlist(n)) : $"IVF{Nlist(n)},Flat";
    }

    /// <summary>
    /// Builds an index over unit vectors with ids. <paramref name="tuningQueries"/> are typical queries
    /// (e.g. user vectors for an item index), sampled down to <see cref="IndexBuildOptions.TuningQueries"/>;
    /// when null, a sample of the collection's own rows is used.
    /// </summary>
    public static (IVectorIndex Index, IndexBuildReport Report) Build(EmbeddingMatrix vectors, long[] ids, IndexBuildOptions options, EmbeddingMatrix? tuningQueries = null)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var watch = Stopwatch.StartNew();
        var perShard = (vectors.Rows + options.Shards - 1) / options.Shards;
        var spec = SpecFor(vectors.Rows, options, vectors.Dimension);
        if (spec == ExactSpec)
        {
            var exact = ShardedIndex.Build(vectors, ids, options.Shards, (m, i) => new ExactIndex(m, i));
            return (exact, new IndexBuildReport(spec, options.Shards, null, 1.0, watch.Elapsed.TotalSeconds, 0));
        }

        var shardSpec = options.Spec ?? SpecFor(perShard, options with { ExactBelow = 0 }, vectors.Dimension);
        var faissShards = new List<FaissIndex>();
        var index = ShardedIndex.Build(vectors, ids, options.Shards, (m, i) =>
        {
            var f = FaissIndex.Create(m.Dimension, shardSpec);
            try
            {
                if (!f.IsTrained)
                {
                    f.Train(TrainingSample(m, shardSpec, options.Seed));
                }

                f.Add(m.Data, i);
            }
            catch
            {
                f.Dispose();
                throw;
            }

            faissShards.Add(f);
            return f;
        });
        var build = watch.Elapsed.TotalSeconds;
        watch.Restart();
        int? nprobe = null;
        double? recall = null;
        if (shardSpec.StartsWith("IVF", StringComparison.Ordinal))
        {
            (nprobe, recall) = TuneNprobe(index, faissShards, vectors, ids, options, Sample(tuningQueries ?? vectors, options.TuningQueries, options.Seed), NlistOf(shardSpec));
        }
        else
        {
            recall = Recall(index, vectors, ids, Sample(tuningQueries ?? vectors, options.TuningQueries, options.Seed), options.RecallK);
        }

        if (options.RecallFloor > 0 && recall < options.RecallFloor)
        {
            index.Dispose();
            throw new RecallFloorException($"{shardSpec} reaches recall@{options.RecallK} {recall:F3} < the floor {options.RecallFloor} (at nprobe {nprobe?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}); raise the bytes per vector ({options.MaxBytesPerVector}) or add shards.");
        }

        return (index, new IndexBuildReport(shardSpec, options.Shards, nprobe, recall, build, watch.Elapsed.TotalSeconds));
    }

    /// <summary>Mean recall@k of <paramref name="index"/> against exact search on the same rows.</summary>
    public static double Recall(IVectorIndex index, EmbeddingMatrix vectors, IReadOnlyList<long> ids, EmbeddingMatrix queries, int k)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(queries);
        using var exact = new ExactIndex(vectors, ids);
        return Recall(index, exact, queries, k);
    }

    public static double Recall(IVectorIndex index, IVectorIndex exact, EmbeddingMatrix queries, int k)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(exact);
        ArgumentNullException.ThrowIfNull(queries);
        var truth = new SearchHit[k];
        var found = new SearchHit[k];
        double sum = 0;
        for (var q = 0; q < queries.Rows; q++)
        {
            var nt = exact.Search(queries.Row(q), k, truth);
            var nf = index.Search(queries.Row(q), k, found);
            var expected = truth.AsSpan(0, nt).ToArray().Select(h => h.Id).ToHashSet();
            sum += nt == 0 ? 1 : (double)found.AsSpan(0, nf).ToArray().Count(h => expected.Contains(h.Id)) / nt;
        }

        return sum / Math.Max(1, queries.Rows);
    }

    private static (int Nprobe, double Recall) TuneNprobe(IVectorIndex index, List<FaissIndex> shards, EmbeddingMatrix vectors, long[] ids, IndexBuildOptions options, EmbeddingMatrix queries, int nlist)
    {
        using var exact = new ExactIndex(vectors, ids);
        var nprobe = 1;
        while (true)
        {
            foreach (var s in shards)
            {
                s.SetParameter("nprobe", nprobe);
            }

            var recall = Recall(index, exact, queries, options.RecallK);
            if (recall >= options.TargetRecall || nprobe >= nlist)
            {
                return (nprobe, recall);
            }

            nprobe = Math.Min(nlist, nprobe * 2);
        }
    }

    private static int NlistOf(string spec)
    {
        var digits = new string(spec.Skip(3).TakeWhile(char.IsDigit).ToArray());
        return int.TryParse(digits, out var n) ? n : 1;
    }

    /// <summary>IVF needs ~39–256 points per centroid to train; more only costs time.</summary>
    private static float[] TrainingSample(EmbeddingMatrix m, string spec, int seed)
    {
        var nlist = spec.StartsWith("IVF", StringComparison.Ordinal) ? NlistOf(spec) : 1;
        var rows = Math.Min(m.Rows, Math.Max(nlist * 64, 10_000));
        return Sample(m, rows, seed).Data;
    }

    private static EmbeddingMatrix Sample(EmbeddingMatrix m, int rows, int seed)
    {
        rows = Math.Min(rows, m.Rows);
        var pick = Enumerable.Range(0, m.Rows).ToArray();
        var rng = new Random(seed);
        for (var i = 0; i < rows; i++)
        {
            var j = rng.Next(i, pick.Length);
            (pick[i], pick[j]) = (pick[j], pick[i]);
        }

        var data = new float[rows * m.Dimension];
        for (var i = 0; i < rows; i++)
        {
            m.Row(pick[i]).CopyTo(data.AsSpan(i * m.Dimension, m.Dimension));
        }

        return new EmbeddingMatrix(data, m.Dimension);
    }
}
