using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Core.Synthetic;
using MIC.Streaming.Faiss;
using MIC.Streaming.Grains;
using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Ingestion;
using MIC.Streaming.Model;
using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using MIC.Streaming.Retrieval.Channels;
using MIC.Streaming.Retrieval.Index;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace MIC.Streaming.Cli.Streaming;

/// <summary>What <c>mic bench capacity</c> measures at.</summary>
internal sealed record CapacityOptions(int Items, int Users, int Queries, int IngestEvents, int IngestUsers, int TrainSteps, int TrainUsers, int TrainItems, int KindsVectors, string[]? Kinds, int Seed);

/// <summary>One measured unit cost: its key (docs/CAPACITY.md's formulas use it), value, unit and how it was measured.</summary>
internal sealed record UnitCost(string Key, double Value, string Unit, string How);

/// <summary>
/// <c>mic bench capacity</c>: the unit costs docs/CAPACITY.md multiplies out, measured in one run on
/// this machine. CPU costs are the process's CPU time divided by the work done, taken where only the
/// measured component runs (the backlog is produced before the ingesting silo starts; queries run on
/// one thread against a local serving model), so the load generator's CPU is not in them.
/// </summary>
internal static class CapacityBenchmark
{
    public static async Task<List<UnitCost>> RunAsync(CapacityOptions options, Action<string> report, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        void Progress(string message) => report($"[{clock.Elapsed:mm\\:ss}] {message}");
        TorchRuntime.Initialize(new TorchOptions { Threads = 1 });
        var costs = new List<UnitCost>();
        using var redis = new RedisProcess();
        foreach (var items in new[] { false, true })
        {
            Progress($"Ingest: {options.IngestEvents:N0} events over {options.IngestUsers:N0} users into Redis-persisted user{(items ? " + item" : "")} grains…");
            await IngestAsync(options, items, redis, costs, cancellationToken);
        }

        Progress($"Serving: a {options.Items:N0}-item, {options.Users:N0}-user version (dim 128)…");
        var version = ScaleBenchmark.BuildVersion(options.Items, options.Users, shards: 3, options.Seed, cancellationToken);
        try
        {
            Serving(version, options, costs);
            Progress("Index kinds: bytes per vector and recall@50 on the version's item vectors…");
            IndexKinds(version, options.KindsVectors, options.Kinds, costs);
            Progress("Fan-out: the same queries replicated on 1 silo and sharded over 3…");
            var queries = ScaleBenchmark.Queries(version.Dataset, version.Split, Math.Min(options.Queries, 1000), options.Seed);
            var scale = new ScaleOptions(options.Items, options.Users, 3, [3], queries.Length, 4, 50, options.Seed);
            using var kafka = LocalSilo.CreateKafka(1);
            var replicated = await ScaleBenchmark.MeasureAsync(ServingMode.Replicated, 1, version.Store, version.Info, redis.ConnectionString, kafka, queries, scale, cancellationToken);
            var sharded = await ScaleBenchmark.MeasureAsync(ServingMode.Sharded, 3, version.Store, version.Info, redis.ConnectionString, kafka, queries, scale, cancellationToken);
            costs.Add(new UnitCost("fanout_cpu_ratio", sharded.CpuMsPerQuery / replicated.CpuMsPerQuery, "×", $"CPU per merged query, 3 shards on 3 in-process silos ({sharded.CpuMsPerQuery:F2} ms) ÷ replicated on 1 ({replicated.CpuMsPerQuery:F2} ms), 4 in flight"));
            costs.Add(new UnitCost("fanout_p99_sharded_ms", sharded.P99Ms, "ms", $"p99 of a merged query, sharded over 3 silos (replicated: {replicated.P99Ms:F1} ms)"));
        }
        finally
        {
            Directory.Delete(version.Store, recursive: true);
        }

        Progress($"Trainer: examples/s on one core per encoder ± MIC ({options.TrainSteps} steps of 1,024)…");
        Trainer(options, costs);
        return costs;
    }

    private static async Task IngestAsync(CapacityOptions options, bool items, RedisProcess redis, List<UnitCost> costs, CancellationToken cancellationToken)
    {
        using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");
        var server = connection.GetServer(redis.ConnectionString);
        await server.FlushAllDatabasesAsync();
        var redisBefore = UsedMemory(server);
        var store = Path.Combine(Path.GetTempPath(), "mic-bench-capacity-" + Guid.NewGuid().ToString("N")[..8]);
        using var kafka = LocalSilo.CreateKafka(8);
        var overrides = new Dictionary<string, string?> { ["Kafka:UpdateItems"] = items ? "true" : "false", ["Kafka:CommitInterval"] = "00:00:01" };

        // An idle silo's heap: what every silo holds before any grain.
        long idleHeap;
        await using (var idle = await LocalSilo.StartAsync(kafka, ownsKafka: false, LocalSilo.FreePort(), store, redis.ConnectionString, overrides))
        {
            await Task.Delay(1000, cancellationToken);
            idleHeap = Heap();
        }

        using (var publisher = new ClickPublisher(kafka.BootstrapServers, LocalSilo.Topic))
        {
            var random = new Random(options.Seed);
            await publisher.ReplayAsync(Enumerable.Range(0, options.IngestEvents).Select(i => new ClickEvent(
                "ce" + i.ToString(CultureInfo.InvariantCulture),
                "cu" + random.Next(options.IngestUsers).ToString(CultureInfo.InvariantCulture),
                "ci" + random.Next(20_000).ToString(CultureInfo.InvariantCulture),
                1_700_000_000 + i,
                Category: "c" + (i % 50).ToString(CultureInfo.InvariantCulture))), 0, cancellationToken: cancellationToken);
            publisher.Flush(TimeSpan.FromSeconds(60));
        }

        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        await using var silo = await LocalSilo.StartAsync(kafka, ownsKafka: false, LocalSilo.FreePort(), store, redis.ConnectionString, overrides);
        var instruments = silo.Ingestion;
        var first = options.IngestEvents / 10;
        while (instruments.TotalApplied + instruments.TotalSkipped < first)
        {
            await Task.Delay(1, cancellationToken);
        }

        // Steady state: from 10 % applied to the commit that covers the last event (start-up excluded).
        // A backlog so small that most of it was applied before that point is measured from the silo's start.
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var n0 = instruments.TotalApplied + instruments.TotalSkipped;
        var startUp = n0 > options.IngestEvents / 2;
        if (startUp)
        {
            (cpu0, n0) = (cpuAtStart, 0);
        }

        while (instruments.TotalApplied + instruments.TotalSkipped < options.IngestEvents)
        {
            await Task.Delay(5, cancellationToken);
        }

        var commits = instruments.TotalCommits;
        while (instruments.TotalCommits == commits)
        {
            await Task.Delay(5, cancellationToken);
        }

        var cpuUs = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds * 1000 / (options.IngestEvents - n0);
        var users = options.IngestUsers;
        var heap = Heap() - idleHeap;
        var redisBytes = UsedMemory(server) - redisBefore;
        var side = items ? "users_items" : "users";
        var what = items ? "user + item grains (20,000 items)" : "user grains";
        costs.Add(new UnitCost($"ingest_cpu_us_{side}", cpuUs, "µs CPU/event", $"{what}: parse, apply, write-behind flush to Redis, commit; {options.IngestEvents:N0} events, {users:N0} users, process CPU from {(startUp ? "the silo's start (backlog too small to exclude it)" : "10 % applied")} to the last commit"));
        if (!items)
        {
            var perUser = (double)options.IngestEvents / users;
            costs.Add(new UnitCost("user_grain_heap_bytes", (double)heap / users, "B/user", $"managed heap after ingest − an idle silo's, ÷ active users ({perUser:F0} events each, sequence cap {new SequenceOptions().MaxUserSequence})"));
            costs.Add(new UnitCost("user_grain_redis_bytes", (double)redisBytes / users, "B/user", "Redis used_memory after the commit − before, ÷ users (Orleans binary state, one key per user)"));
        }
        else
        {
            costs.Add(new UnitCost("user_item_redis_bytes", (double)redisBytes / (users + 20_000), "B/key", "Redis used_memory ÷ (users + items) with item grains on"));
        }
    }

    private static void Serving(ScaleBenchmark.BuiltVersion version, CapacityOptions options, List<UnitCost> costs)
    {
        var watch = Stopwatch.StartNew();
        var loaded = ModelStore.Load(version.Info);
        var loadSeconds = watch.Elapsed.TotalSeconds;
        var spaces = loaded.Spaces!;
        var vectors = spaces.ItemRelevance.Rows + spaces.ItemOwn.Rows + spaces.UserOwn.Rows;
        costs.Add(new UnitCost("load_s_per_million_vectors", loadSeconds / (vectors / 1e6), "s/M vectors", $"ModelStore.Load of the whole version (checkpoint + 3 indexes, {vectors:N0} index vectors) in {loadSeconds:F1} s"));
        var indexBytes = Directory.EnumerateFiles(Path.Combine(version.Info.Path, ModelStore.IndexDirectory)).Sum(f => new FileInfo(f).Length);
        costs.Add(new UnitCost("replicated_bytes_per_vector", (double)indexBytes / (spaces.ItemRelevance.Rows + spaces.UserOwn.Rows), "B/(item+user)", "the version's index snapshot (item relevance + item own + user matrices and indexes, histories, neighbour table) ÷ (items + indexed users)"));
        var shardBytes = Directory.EnumerateFiles(Path.Combine(version.Info.Path, MIC.Streaming.Grains.Serving.Sharding.ShardStore.Directory), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        costs.Add(new UnitCost("sharded_bytes_per_vector", (double)shardBytes / (spaces.ItemRelevance.Rows + spaces.UserOwn.Rows), "B/(item+user)", "all index shards of the version (item relevance vectors + index, neighbour rows, user vectors + index, histories) ÷ (items + indexed users): what the serving silos hold together in sharded mode"));

        // The tower every serving silo holds in either mode: the weights (per item: its embedding rows)
        // and the dataset the checkpoint carries (vocabularies and the users' recent sequences).
        var checkpoint = Path.Combine(version.Info.Path, ModelStore.CheckpointDirectory);
        var weights = new FileInfo(Path.Combine(checkpoint, "weights.bin")).Length;
        var data = Directory.EnumerateFiles(checkpoint).Where(f => !f.EndsWith("weights.bin", StringComparison.Ordinal)).Sum(f => new FileInfo(f).Length);
        costs.Add(new UnitCost("tower_weights_bytes_per_item", (double)weights / spaces.ItemRelevance.Rows, "B/item", $"weights.bin ÷ items (item and category embeddings at dim 128 plus the towers' fixed layers; {weights / 1048576.0:F0} MiB)"));
        costs.Add(new UnitCost("tower_dataset_bytes_per_interaction", (double)data / version.Dataset.InteractionCount, "B/interaction", $"the checkpoint's dataset and manifest ÷ interactions ({version.Dataset.InteractionCount:N0} over {version.Dataset.UserCount:N0} users; {data / 1048576.0:F0} MiB)"));

        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var serving = new ServingModel(new ChannelOptions(), new ServingInstruments(meters.GetRequiredService<IMeterFactory>()));
        serving.Publish(loaded);
        var queries = ScaleBenchmark.Queries(version.Dataset, version.Split, options.Queries, options.Seed);
        foreach (var (name, channel) in new[] { ("u2i", RetrievalChannels.U2I), ("u2u2i", RetrievalChannels.U2U2I), ("u2i2i", RetrievalChannels.U2I2I), ("merged", RetrievalChannels.All) })
        {
            foreach (var q in queries.Take(100))
            {
                serving.Retrieve(q.User, q.Recent, 50, channel); // warm-up
            }

            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            foreach (var q in queries)
            {
                serving.Retrieve(q.User, q.Recent, 50, channel);
            }

            var ms = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / queries.Length;
            costs.Add(new UnitCost($"query_cpu_ms_{name}", ms, "ms CPU/query", $"{(name == "merged" ? "all three channels + merge" : name)}, k 50, user tower included, {options.Items:N0} items / {options.Users:N0} users, one thread, {queries.Length:N0} queries"));
        }
    }

    private static void IndexKinds(ScaleBenchmark.BuiltVersion version, int kindsVectors, string[]? kinds, List<UnitCost> costs)
    {
        using var loaded = ModelStore.Load(version.Info);
        var all = loaded.Spaces!.ItemRelevance;
        var n = Math.Min(kindsVectors, all.Rows);
        var vectors = new EmbeddingMatrix(all.Data.AsSpan(0, n * all.Dimension).ToArray(), all.Dimension);
        var ids = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
        // IVF-PQ builds dominate the run: Faiss trains each PQ with its polysemous codes (~45 s even on 2,000 vectors).
        foreach (var kind in IndexPlanner.Kinds(all.Dimension).Where(k => kinds is null || kinds.Contains(k.Name)))
        {
            var (index, report) = IndexPlanner.Build(vectors, ids, new IndexBuildOptions { ExactBelow = 0, MaxBytesPerVector = kind.BytesPerVector });
            using (index)
            {
                var file = Path.Combine(Path.GetTempPath(), "mic-kind-" + Guid.NewGuid().ToString("N")[..8] + ".faiss");
                ((FaissIndex)index).Save(file);
                var bytes = new FileInfo(file).Length;
                File.Delete(file);
                costs.Add(new UnitCost($"index_bytes_per_vector_{kind.Name}", (double)bytes / n, "B/vector", $"{report.Spec} on {n:N0} trained item vectors (dim {all.Dimension}); recall@50 {report.RecallAtK:F3} at nprobe {report.Nprobe}"));
            }
        }
    }

    private static void Trainer(CapacityOptions options, List<UnitCost> costs)
    {
        var dataset = new SyntheticDataGenerator(new SyntheticOptions { Users = options.TrainUsers, Items = options.TrainItems, Categories = 100, Seed = options.Seed }).BuildDataset();
        var split = ComiRecSplitter.Split(dataset, 1, 20);
        var tables = new FeatureTables(dataset);
        var examples = new TrainingExamples(split.Train);
        var rng = new Random(1);
        foreach (var encoder in new[] { "dssm", "youtubednn", "comirec-sa", "comirec-dr" })
        {
            foreach (var variant in new[] { MicVariant.Base, MicVariant.Full })
            {
                var train = new TrainOptions { Encoder = encoder, EncoderOptions = new EncoderOptions { Dimension = 128, MaxLen = 20 }, Mic = new MicOptions { Variant = variant }, BatchSize = 1024 };
                using var trainer = new MicTrainer(tables, train);
                trainer.RefreshSupportSets(split.Train);
                int[] Batch() => [.. Enumerable.Range(0, train.BatchSize).Select(_ => rng.Next(examples.Count))];
                trainer.TrainStep(examples, Batch(), report: false);
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                for (var i = 0; i < options.TrainSteps; i++)
                {
                    trainer.TrainStep(examples, Batch(), report: false);
                }

                var seconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                var name = variant == MicVariant.Base ? encoder : encoder + "+mic";
                costs.Add(new UnitCost($"train_examples_per_core_s_{name}", options.TrainSteps * train.BatchSize / seconds, "examples/core-s", $"{name}, batch 1,024, dim 128, {options.TrainItems:N0} items, libtorch 1 thread; examples ÷ process CPU seconds"));
            }
        }
    }

    private static long Heap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static long UsedMemory(IServer server)
    {
        var memory = server.Info("memory").SelectMany(g => g).First(p => p.Key == "used_memory").Value;
        return long.Parse(memory, CultureInfo.InvariantCulture);
    }
}
