using System.Diagnostics;
using System.Globalization;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Core.Synthetic;
using MIC.Streaming.Faiss;
using MIC.Streaming.Grains;
using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Grains.Serving.Sharding;
using MIC.Streaming.Model;
using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using Microsoft.Extensions.DependencyInjection;

namespace MIC.Streaming.Cli.Streaming;

/// <summary>What <c>mic bench scale</c> runs.</summary>
internal sealed record ScaleOptions(int Items, int Users, int Shards, int[] Silos, int Queries, int Concurrency, int K, int Seed);

/// <summary>
/// One cluster configuration's measurements. Serving bytes are what each silo loaded: the tower
/// (checkpoint files: weights, vocabularies, dataset) plus the indexes (the whole snapshot when
/// replicated, the shard files its shard grains loaded when sharded), all of which a silo holds in
/// memory; the process's RSS is not split per silo here (the silos share one process, and its growth
/// mixes in what the allocator kept from building the version). CPU per query is the process's CPU time (every
/// silo's share of the fan-out included) divided by queries; the load generator's own CPU is in it too,
/// equally for every row.
/// </summary>
internal sealed record ScaleRow(
    string Mode, int Silos, long TowerBytes, long[] IndexBytesPerSilo, double P50Ms, double P99Ms, double CpuMsPerQuery, int Partial, int Queries)
{
    public long MaxSiloBytes => TowerBytes + IndexBytesPerSilo.Max();
}

/// <summary>
/// <c>mic bench scale</c>: the same model version served Replicated on one silo and Sharded on 1..n
/// silos of one in-process cluster (Redis membership, as deployed), measuring per-silo serving bytes,
/// query latency and CPU per query.
/// </summary>
internal static class ScaleBenchmark
{
    public static async Task<(TimeSpan Build, List<ScaleRow> Rows)> RunAsync(ScaleOptions options, Action<string> progress, CancellationToken cancellationToken)
    {
        TorchRuntime.Initialize(new TorchOptions { Threads = 1 });
        var watch = Stopwatch.StartNew();
        progress($"Building a {options.Items:N0}-item, {options.Users:N0}-user synthetic dataset, a briefly trained DSSM, and version 1 as {options.Shards} shards…");
        var version = BuildVersion(options.Items, options.Users, options.Shards, options.Seed, cancellationToken);
        var build = watch.Elapsed;
        var queries = Queries(version.Dataset, version.Split, options.Queries, options.Seed);
        var rows = new List<ScaleRow>();
        using var redis = new RedisProcess();
        using var kafka = LocalSilo.CreateKafka(1);
        try
        {
            var configs = new List<(ServingMode Mode, int Silos)> { (ServingMode.Replicated, 1) };
            configs.AddRange(options.Silos.Select(n => (ServingMode.Sharded, n)));
            foreach (var (mode, silos) in configs)
            {
                progress($"{mode} on {silos} silo(s)…");
                rows.Add(await MeasureAsync(mode, silos, version.Store, version.Info, redis.ConnectionString, kafka, queries, options, cancellationToken));
            }
        }
        finally
        {
            Directory.Delete(version.Store, recursive: true);
        }

        return (build, rows);
    }

    /// <summary>A synthetic catalogue, a DSSM trained 20 steps (cost depends on sizes, not on training), written as version 1 with shards.</summary>
    internal sealed record BuiltVersion(string Store, ModelVersionInfo Info, InteractionDataset Dataset, DatasetSplit Split);

    internal static BuiltVersion BuildVersion(int items, int users, int shards, int seed, CancellationToken cancellationToken)
    {
        var dataset = new SyntheticDataGenerator(new SyntheticOptions { Users = users, Items = items, Categories = 200, Seed = seed }).BuildDataset();
        var split = ComiRecSplitter.Split(dataset, 1, 20);
        var train = new TrainOptions
        {
            Encoder = "dssm",
            EncoderOptions = new EncoderOptions { Dimension = 128, MaxLen = 20 },
            Mic = new MicOptions { Variant = MicVariant.Base },
            MaxEpochs = 1,
            MaxSteps = 20,
        };
        var store = Path.Combine(Path.GetTempPath(), "mic-bench-version-" + Guid.NewGuid().ToString("N")[..8]);
        using var trainer = new MicTrainer(new FeatureTables(dataset), train);
        trainer.Train(split, cancellationToken: cancellationToken);
        var manifest = new CheckpointManifest { Options = train, Dataset = dataset.Name, Protocol = split.Protocol, CreatedUtc = DateTimeOffset.UtcNow };
        var info = ModelPublisher.Write(store, 1, trainer.Model, dataset, split.Train, manifest, new IndexBuildOptions(), "bench", TimeProvider.System, shards: shards);
        return new BuiltVersion(store, info, dataset, split);
    }

    internal static async Task<ScaleRow> MeasureAsync(
        ServingMode mode, int count, string store, ModelVersionInfo info, string redis, MIC.Streaming.Ingestion.MockKafkaCluster kafka, (string User, RecentItems Recent)[] queries, ScaleOptions options, CancellationToken cancellationToken)
    {
        var cluster = "scale-" + Guid.NewGuid().ToString("N")[..8];
        var silos = new List<LocalSilo>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                silos.Add(await LocalSilo.StartAsync(kafka, ownsKafka: false, LocalSilo.FreePort(), store, redis, new Dictionary<string, string?>
                {
                    ["Silo:Clustering"] = "Redis",
                    ["Silo:Storage"] = "Memory",
                    ["Silo:ServiceId"] = cluster,
                    ["Silo:ClusterId"] = cluster,
                    ["Kafka:ConsumerEnabled"] = "false",
                    ["Serving:Mode"] = mode.ToString(),
                    ["Serving:Shards"] = options.Shards.ToString(CultureInfo.InvariantCulture),
                    ["Serving:ShardBudget"] = "00:00:05",
                    ["Serving:PollInterval"] = "00:00:00.200",
                }));
            }

            await silos[0].Grains.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey).PublishAsync(info);
            var servings = silos.Select(s => s.App.Services.GetRequiredService<ServingModel>()).ToList();
            while (!servings.All(s => s.CurrentVersion == info.Version))
            {
                await Task.Delay(100, cancellationToken);
            }

            var tower = DirectoryBytes(Path.Combine(info.Path, ModelStore.CheckpointDirectory));
            var indexes = mode == ServingMode.Replicated
                ? silos.Select(_ => DirectoryBytes(Path.Combine(info.Path, ModelStore.IndexDirectory))).ToArray()
                : silos.Select(s => s.App.Services.GetRequiredService<ServingInstruments>().ShardBytes).ToArray();

            // Warm-up (JIT, caches), then the measured closed loop. A full collection first: the row
            // right after the version was built would otherwise pay for collecting the build's garbage
            // inside its measured CPU (it tripled the first replicated row's CPU per query).
            await RunQueriesAsync(servings, queries.Take(200).ToArray(), options, cancellationToken);
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var (latencies, partial) = await RunQueriesAsync(servings, queries, options, cancellationToken);
            var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
            latencies.Sort();
            return new ScaleRow(mode.ToString(), count, tower, indexes, Percentile(latencies, 50), Percentile(latencies, 99), cpuMs / queries.Length, partial, queries.Length);
        }
        finally
        {
            foreach (var silo in Enumerable.Reverse(silos))
            {
                await silo.DisposeAsync();
            }
        }
    }

    /// <summary>Concurrency workers, query i through silo i mod n (as a load balancer would spread them).</summary>
    private static async Task<(List<double> Latencies, int Partial)> RunQueriesAsync(List<ServingModel> servings, (string User, RecentItems Recent)[] queries, ScaleOptions options, CancellationToken cancellationToken)
    {
        var latencies = new double[queries.Length];
        var partial = 0;
        var next = -1;
        var workers = Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < queries.Length && !cancellationToken.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                var response = await servings[i % servings.Count].RetrieveAsync(queries[i].User, queries[i].Recent, options.K, RetrievalChannels.All);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (response.Partial)
                {
                    Interlocked.Increment(ref partial);
                }
            }
        }, cancellationToken));
        await Task.WhenAll(workers);
        return ([.. latencies], partial);
    }

    /// <summary>Test users' training histories as live sequences (raw ids), in a seeded order.</summary>
    internal static (string User, RecentItems Recent)[] Queries(InteractionDataset dataset, DatasetSplit split, int n, int seed)
    {
        var random = new Random(seed);
        var users = split.Train.UserCount;
        var result = new List<(string, RecentItems)>(n);
        while (result.Count < n)
        {
            var u = random.Next(users);
            var history = split.Train.Sequence(u);
            if (history.Length == 0)
            {
                continue;
            }

            var items = history[Math.Max(0, history.Length - 50)..].ToArray().Select(i => dataset.Items.GetRaw(i)).ToArray();
            result.Add((dataset.Users.GetRaw(u), new RecentItems(items, null, null)));
        }

        return [.. result];
    }

    private static long DirectoryBytes(string path) =>
        Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
