using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Faiss;
using MIC.Streaming.Retrieval.Channels;
using MIC.Streaming.Retrieval.Index;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class BenchIndexSettings : CommandSettings
{
    [CommandOption("--sizes <LIST>")]
    [Description("Collection sizes (vectors) to measure.")]
    [DefaultValue("100000,1000000")]
    public string Sizes { get; init; } = "100000,1000000";

    [CommandOption("--dim <N>")]
    [Description("Vector dimension.")]
    [DefaultValue(128)]
    public int Dim { get; init; } = 128;

    [CommandOption("--kinds <LIST>")]
    [Description("Index kinds: exact, ivf (= ivf-flat: 4√n lists, nprobe tuned to --target-recall), ivf-sq8 and ivf-pq<m> (compressed codes, m | dim), hnsw (HNSW32, efSearch 128; ≤ --hnsw-max vectors).")]
    [DefaultValue("exact,ivf,hnsw")]
    public string Kinds { get; init; } = "exact,ivf,hnsw";

    [CommandOption("--hnsw-max <N>")]
    [Description("Largest collection HNSW is built for (its build is slow on 2 cores).")]
    [DefaultValue(100000)]
    public int HnswMax { get; init; } = 100_000;

    [CommandOption("--data-kinds <LIST>")]
    [Description("clustered (shaped like trained embeddings) and/or random vectors, or a .f32 matrix file of real model vectors.")]
    [DefaultValue("clustered,random")]
    public string DataKinds { get; init; } = "clustered,random";

    [CommandOption("--checkpoint <DIR>")]
    [Description("Also measure on a trained model: its item relevance vectors, queried by its test users' vectors.")]
    public string? Checkpoint { get; init; }

    [CommandOption("--queries <N>")]
    [Description("Queries for recall and single-query q/s (exact single-query is timed on at most 50).")]
    [DefaultValue(200)]
    public int Queries { get; init; } = 200;

    [CommandOption("--target-recall <R>")]
    [Description("Recall@50 the IVF nprobe is tuned to.")]
    [DefaultValue(0.95)]
    public double TargetRecall { get; init; } = 0.95;

    [CommandOption("--channels-size <N>")]
    [Description("Items = users for the three-channel latency and swap test (0 = skip).")]
    [DefaultValue(200000)]
    public int ChannelsSize { get; init; } = 200_000;

    [CommandOption("--swaps <N>")]
    [Description("Version swaps while queries hammer the catalog.")]
    [DefaultValue(100)]
    public int Swaps { get; init; } = 100;

    public override ValidationResult Validate()
    {
        foreach (var kind in CliValidation.List(Kinds))
        {
            if (kind is "exact" or "hnsw")
            {
                continue;
            }

            try
            {
                IndexPlanner.Kind(kind, Dim);
            }
            catch (ArgumentException)
            {
                return ValidationResult.Error($"--kinds '{kind}' is unknown; use exact, hnsw, ivf, ivf-flat, ivf-sq8 or ivf-pq<m> with m dividing --dim {Dim}.");
            }
        }

        return CliValidation.FirstError(CliValidation.AtLeast("--dim", Dim, 2), CliValidation.Integers("--sizes", Sizes));
    }
}

/// <summary>
/// <c>mic bench index</c>: build time, single-query and batched q/s and recall@50 against exact for
/// exact / IVF / HNSW; three-channel latency at large item and user counts; and version swaps under
/// query load, counting failed and torn (mixed-version) answers. Ratios are against exact, same run.
/// </summary>
public sealed class BenchIndexCommand : Command<BenchIndexSettings>
{
    public override int Execute(CommandContext context, BenchIndexSettings settings, CancellationToken cancellationToken)
    {
        var table = new Table().AddColumns("data", "n", "index", "bytes/vector", "build s", "single q/s", "batched q/s", "recall@50", "single q/s vs exact");
        var sets = new List<(string Label, Func<(EmbeddingMatrix Data, EmbeddingMatrix Queries)> Make)>();
        if (settings.Checkpoint is not null)
        {
            sets.Add(($"model:{Path.GetFileName(settings.Checkpoint.TrimEnd('/'))}", () => ModelVectors(settings.Checkpoint, settings.Queries)));
        }

        foreach (var dataKind in settings.DataKinds.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var size in settings.Sizes.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)))
            {
                sets.Add((dataKind, () =>
                {
                    var d = Vectors(dataKind, size, settings.Dim, seed: 11).Item1;
                    return (d, Vectors(dataKind == "random" ? "random" : "clustered-queries", settings.Queries, d.Dimension, seed: 12, source: d).Item1);
                }));
            }
        }

        foreach (var (label, make) in sets)
        {
            {
                var (data, queries) = make();
                var n = data.Rows;
                var ids = Enumerable.Range(0, data.Rows).Select(i => (long)i).ToArray();
                using var exact = new ExactIndex(data, ids);
                double exactSingle = 0;
                foreach (var kind in settings.Kinds.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    if (kind == "hnsw" && data.Rows > settings.HnswMax)
                    {
                        continue;
                    }

                    var watch = Stopwatch.StartNew();
                    IVectorIndex index = kind switch
                    {
                        "exact" => new ExactIndex(data, ids),
                        _ when kind.StartsWith("ivf", StringComparison.Ordinal) => IndexPlanner.Build(data, ids, new IndexBuildOptions { ExactBelow = 0, Spec = IndexPlanner.Kind(kind, data.Dimension).Spec(IndexPlanner.Nlist(n)), TargetRecall = settings.TargetRecall, TuningQueries = Math.Min(100, settings.Queries) }, queries).Index,
                        "hnsw" => Hnsw(data, ids),
                        _ => throw new ArgumentException($"unknown index kind {kind}"),
                    };
                    var build = watch.Elapsed.TotalSeconds;
                    using (index)
                    {
                        var singleQueries = kind == "exact" ? Math.Min(50, queries.Rows) : queries.Rows;
                        var hits = new SearchHit[50];
                        watch.Restart();
                        for (var q = 0; q < singleQueries; q++)
                        {
                            index.Search(queries.Row(q), 50, hits);
                        }

                        var single = singleQueries / watch.Elapsed.TotalSeconds;
                        if (kind == "exact")
                        {
                            exactSingle = single;
                        }

                        var batched = Batched(index, queries);
                        var recall = kind == "exact" ? 1.0 : IndexPlanner.Recall(index, exact, queries, 50);
                        table.AddRow(label, n.ToString("N0", CultureInfo.InvariantCulture), kind, BytesPerVector(index, n, data.Dimension), build.ToString("F1", CultureInfo.InvariantCulture), single.ToString("F0", CultureInfo.InvariantCulture), batched.ToString("F0", CultureInfo.InvariantCulture), recall.ToString("F3", CultureInfo.InvariantCulture), exactSingle > 0 ? (single / exactSingle).ToString("F1", CultureInfo.InvariantCulture) + "×" : "–");
                        AnsiConsole.MarkupLine(Markup.Escape($"{label} {n} {kind}: build {build:F1}s single {single:F0} q/s batched {batched:F0} q/s recall@50 {recall:F3}"));
                    }
                }
            }
        }

        AnsiConsole.Write(table);
        if (settings.ChannelsSize > 0)
        {
            Channels(settings);
        }

        return 0;
    }

    /// <summary>Stored bytes per vector: a Faiss index's serialized size ÷ n; the managed exact index holds 4·D floats + an 8-byte id.</summary>
    private static string BytesPerVector(IVectorIndex index, long n, int dimension)
    {
        if (index is not FaissIndex f)
        {
            return index is ExactIndex ? ((4 * dimension) + 8).ToString(CultureInfo.InvariantCulture) : "–";
        }

        var file = Path.Combine(Path.GetTempPath(), $"mic-bench-index-{Guid.NewGuid():N}.faiss");
        try
        {
            f.Save(file);
            return (new FileInfo(file).Length / (double)n).ToString("F1", CultureInfo.InvariantCulture);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static double Batched(IVectorIndex index, EmbeddingMatrix queries)
    {
        var watch = Stopwatch.StartNew();
        if (index is FaissIndex f)
        {
            var scores = new float[queries.Rows * 50];
            var ids = new long[queries.Rows * 50];
            f.SearchBatch(queries.Data, 50, scores, ids, threads: 0);
        }
        else
        {
            Parallel.For(0, queries.Rows, () => new SearchHit[50], (q, _, hits) =>
            {
                index.Search(queries.Row(q), 50, hits);
                return hits;
            }, _ => { });
        }

        return queries.Rows / watch.Elapsed.TotalSeconds;
    }

    private static FaissIndex Hnsw(EmbeddingMatrix data, long[] ids)
    {
        var f = FaissIndex.Create(data.Dimension, "HNSW32");
        f.Add(data.Data, ids);
        f.SetParameter("efSearch", 128);
        return f;
    }

    /// <summary>Three-channel latency over a large catalog, then swaps under load.</summary>
    private static void Channels(BenchIndexSettings settings)
    {
        var n = settings.ChannelsSize;
        var d = settings.Dim;
        // Shaped like a trained two-tower model: users sit near the items they clicked (user = mean of
        // its 20 history items + noise), and histories stay inside a few item clusters.
        var items = Vectors("clustered", n, d, 21).Item1;
        var rng = new Random(3);
        var offsets = new int[n + 1];
        var historyItems = new int[n * 20];
        var userData = new float[n * d];
        var itemIndex = new ExactIndex(new EmbeddingMatrix(items.Data, d));
        var seeds = new SearchHit[40];
        for (var u = 0; u < n; u++)
        {
            offsets[u + 1] = offsets[u] + 20;
            if (u % 50 == 0)
            {
                itemIndex.Search(items.Row(rng.Next(n)), 40, seeds); // a neighbourhood shared by 50 users
            }

            var row = userData.AsSpan(u * d, d);
            for (var j = 0; j < 20; j++)
            {
                var item = (int)seeds[rng.Next(40)].Id;
                historyItems[(u * 20) + j] = item;
                System.Numerics.Tensors.TensorPrimitives.Add(row, items.Row(item), row);
            }

            for (var j = 0; j < d; j++)
            {
                row[j] += 0.5f * (float)Gaussian(rng);
            }
        }

        var users = new EmbeddingMatrix(userData, d).Normalised();

        var histories = new SequenceTable(offsets, historyItems, new long[historyItems.Length]);
        var options = new IndexBuildOptions { ExactBelow = 0, TuningQueries = 100 };
        var watch = Stopwatch.StartNew();
        var (spaces, reports) = SpacesBuilder.Build(items, items, users, histories, options, users);
        AnsiConsole.MarkupLine(Markup.Escape($"Built three indexes over {n:N0} items and {n:N0} users in {watch.Elapsed.TotalSeconds:F0}s: " + string.Join("; ", reports.Select(r => $"{r.Key} {r.Value.Spec} nprobe {r.Value.Nprobe} recall {r.Value.RecallAtK:F3}"))));
        using var catalog = new IndexCatalog();
        catalog.Publish(spaces, 1);
        var channelOptions = new ChannelOptions();
        var times = new Dictionary<string, List<double>> { ["U2I"] = [], ["U2U2I"] = [], ["U2I2I"] = [], ["all three + merge"] = [] };
        for (var q = 0; q < 1000; q++)
        {
            var u = rng.Next(n);
            var query = new UserQuery([users.Row(u).ToArray()], [users.Row(u).ToArray()], histories.Sequence(u).ToArray(), u);
            using var lease = catalog.Acquire();
            var s = lease.Snapshot.Spaces;
            var sw = Stopwatch.StartNew();
            U2IChannel.Retrieve(s, query, 50);
            times["U2I"].Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            U2U2IChannel.Retrieve(s, query, 50, channelOptions);
            times["U2U2I"].Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            U2I2IChannel.Retrieve(s, query, 50, channelOptions);
            times["U2I2I"].Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            MultiChannelRetriever.Retrieve(s, query, 50, ChannelSet.All, channelOptions);
            times["all three + merge"].Add(sw.Elapsed.TotalMilliseconds);
        }

        var latency = new Table().AddColumns("channel (K = 50)", "p50 ms", "p99 ms");
        foreach (var (name, t) in times)
        {
            var sorted = t.Order().ToArray();
            latency.AddRow(name, sorted[sorted.Length / 2].ToString("F2", CultureInfo.InvariantCulture), sorted[(int)(sorted.Length * 0.99)].ToString("F2", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(latency);
        Swaps(spaces, settings.Swaps, users);
    }

    /// <summary>Republishes versions (sharing the built indexes through wrappers) while 2 threads query.</summary>
    private static void Swaps(RetrievalSpaces built, int swaps, EmbeddingMatrix users)
    {
        long failed = 0, torn = 0, answered = 0;
        using var catalog = new IndexCatalog();
        catalog.Publish(Tagged(built, 1), 1);
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(t => Task.Run(() =>
        {
            var rng = new Random(t);
            var hits = new SearchHit[50];
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var lease = catalog.Acquire();
                    var version = lease.Snapshot.Version;
                    var index = (VersionTaggedIndex)lease.Snapshot.Spaces.ItemRelevanceIndex;
                    var n = index.Search(users.Row(rng.Next(users.Rows)), 50, hits);
                    if (n == 0 || hits.Take(n).Any(h => h.Id / VersionTaggedIndex.Stride != version))
                    {
                        Interlocked.Increment(ref torn);
                    }

                    Interlocked.Increment(ref answered);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        })).ToArray();
        var watch = Stopwatch.StartNew();
        for (var v = 2; v <= swaps + 1; v++)
        {
            // A new version: fresh wrapper objects whose ids carry the version; the underlying Faiss
            // indexes are shared and stay owned by the channel catalog above (alive for the whole test).
            catalog.Publish(Tagged(built, v), v);
            Thread.Sleep(5);
        }

        stop.Cancel();
        Task.WaitAll(readers);
        AnsiConsole.MarkupLine($"Swaps under load: {swaps} swaps in {watch.Elapsed.TotalSeconds:F1}s, {answered:N0} queries, {failed} failed, {torn} torn (mixed-version) answers.");
    }

    private static RetrievalSpaces Tagged(RetrievalSpaces built, long v) =>
        new(new VersionTaggedIndex(built.ItemRelevanceIndex, v), built.ItemRelevance, new VersionTaggedIndex(built.ItemOwnIndex, v), built.ItemOwn, new VersionTaggedIndex(built.UserOwnIndex, v), built.UserOwn, built.UserIds, built.UserHistories);

    /// <summary>Tags ids with a version (id + version·Stride) without owning the inner index.</summary>
    private sealed class VersionTaggedIndex(IVectorIndex inner, long version) : IVectorIndex
    {
        public const long Stride = 1L << 32;

        public int Dimension => inner.Dimension;

        public long Count => inner.Count;

        public int Search(ReadOnlySpan<float> query, int k, Span<SearchHit> hits)
        {
            var n = inner.Search(query, k, hits);
            for (var i = 0; i < n; i++)
            {
                hits[i] = hits[i] with { Id = hits[i].Id + (version * Stride) };
            }

            return n;
        }

        public void Dispose()
        {
            // The inner index belongs to the snapshot that built it.
        }
    }

    /// <summary>A checkpoint's item relevance vectors and its test users' relevance vectors (first interest).</summary>
    private static (EmbeddingMatrix Data, EmbeddingMatrix Queries) ModelVectors(string checkpoint, int queries)
    {
        var (model, tables, dataset, manifest) = MIC.Streaming.Model.Training.Checkpoint.Load(checkpoint);
        using (model)
        {
            var maxLen = manifest.Options.EncoderOptions.MaxLen;
            var split = MIC.Streaming.Core.Splits.ComiRecSplitter.Split(dataset, manifest.SplitSeed, maxLen);
            var embeddings = new MIC.Streaming.Model.ModelEmbeddings(model, tables, maxLen);
            var (_, rel) = embeddings.Items();
            var cases = split.Test.Take(queries).ToArray();
            var encoded = embeddings.Encode(cases.Select(c => (ReadOnlyMemory<int>)c.History).ToArray(), cases.Select(c => c.User).ToArray());
            var q = new EmbeddingMatrix(encoded.SelectMany(e => e.RelevanceInterests[0]).ToArray(), rel.Dimension);
            return (rel.Normalised(), q.Normalised());
        }
    }

    /// <summary>Clustered (Gaussian blobs on the sphere, like trained embeddings), random, or a .f32 file.</summary>
    private static (EmbeddingMatrix, string) Vectors(string kind, int n, int dim, int seed, EmbeddingMatrix? source = null)
    {
        if (kind.EndsWith(".f32", StringComparison.Ordinal))
        {
            var bytes = File.ReadAllBytes(kind);
            var all = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            return (new EmbeddingMatrix(all, dim).Normalised(), Path.GetFileNameWithoutExtension(kind));
        }

        var rng = new Random(seed);
        var data = new float[n * dim];
        if (kind == "clustered-queries" && source is not null)
        {
            // Queries near (not on) stored vectors, as user vectors are near their items.
            for (var r = 0; r < n; r++)
            {
                var row = source.Row(rng.Next(source.Rows));
                for (var j = 0; j < dim; j++)
                {
                    data[(r * dim) + j] = row[j] + (0.05f * (float)Gaussian(rng));
                }
            }
        }
        else if (kind is "clustered" or "clustered-queries")
        {
            var clusters = Math.Max(10, (int)Math.Sqrt(n));
            var centres = new float[clusters * dim];
            for (var i = 0; i < centres.Length; i++)
            {
                centres[i] = (float)Gaussian(rng);
            }

            for (var r = 0; r < n; r++)
            {
                var c = rng.Next(clusters);
                for (var j = 0; j < dim; j++)
                {
                    data[(r * dim) + j] = centres[(c * dim) + j] + (0.6f * (float)Gaussian(rng));
                }
            }
        }
        else
        {
            for (var i = 0; i < data.Length; i++)
            {
                data[i] = (float)Gaussian(rng);
            }
        }

        return (new EmbeddingMatrix(data, dim).Normalised(), kind);
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
