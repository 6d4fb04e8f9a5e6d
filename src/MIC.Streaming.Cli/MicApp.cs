using MIC.Streaming.Cli.Commands;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli;

/// <summary>
/// The <c>mic</c> command tree. <c>Program</c> runs it; the CLI tests run the same configuration,
/// so every help screen and every fail-fast check is tested through the real <see cref="CommandApp"/>.
/// </summary>
public static class MicApp
{
    private static readonly List<(string Path, Type Command)> Registered = [];

    /// <summary>Every leaf command as its space-separated path (e.g. <c>bench train</c>) and its type.</summary>
    public static IReadOnlyList<(string Path, Type Command)> Commands
    {
        get
        {
            lock (Registered)
            {
                if (Registered.Count == 0)
                {
                    new CommandApp().Configure(Configure);
                }

                return [.. Registered];
            }
        }
    }

    public static void Configure(IConfigurator config)
    {
        ArgumentNullException.ThrowIfNull(config);
        // Baselines that need TorchSharp live in the Model library; register them before any
        // --model is validated.
        MIC.Streaming.Core.Baselines.Recommenders.Register(MIC.Streaming.Model.Baselines.EaseR.Spec);
        config.SetApplicationName("mic");
        config.SetApplicationVersion(CliErrors.Version);
        // An option the command does not have is an error, not silently ignored (a typo'd option
        // would otherwise run minutes of work with the default).
        config.UseStrictParsing();
        // One line per error, naming what to fix; no stack trace for a user's mistake.
        config.SetExceptionHandler((ex, _) => CliErrors.Report(ex));
        Add<DemoCommand>(config, "demo", "The live system in one process: train DSSM+MIC, start mock Kafka + a silo + the HTTP API, replay held-out clicks then keep streaming, show ingestion, latency and online Recall@50.");
        Add<OfflineDemoCommand>(config, "offline-demo", "Offline only: evaluate the baselines and a short DSSM+MIC on a dataset and print the table.");
        Add<ProduceCommand>(config, "produce", "Replay a dataset as click events (JSON, keyed by user) into any Kafka cluster at a given rate.");
        Add<KafkaCommand>(config, "kafka", KafkaCommand.Description);
        Add<ChaosCommand>(config, "chaos", "Load and audit of scripts/chaos.sh: known clicks and fixed-rate queries against a running cluster, then every history checked.");
        Add<ReportCommand>(config, "report", "Plot the streaming trainer's online (prequential) Recall@K per channel, updated vs frozen, with model-version change points (PNG).");
        Add<TrainCommand>(config, "train", "Train an encoder (dssm, youtubednn, comirec-sa, comirec-dr) vanilla or +MIC; evaluate U2I / U2U2I / U2I2I / merged; write a checkpoint.");
        Add<ReproduceCommand>(config, "reproduce", "The paper's Tables 2–3, Figure 4 and levers beside tuned baselines; resumable by run and epoch; markdown, CSV, PNGs.");
        Add<ExperimentCommand>(config, "experiment", "Grid of encoder × variant × channel × seeds → summary.md / .csv (mean ± sd) and every run.");
        config.AddBranch("data", data =>
        {
            data.SetDescription("Import, inspect and generate datasets.");
            Add<DataStatsCommand>(data, "data stats", "Import a dataset and print its statistics.");
            Add<DataImportCommand>(data, "data import", "Import a dataset (streaming), report bad lines, write a compact .micds snapshot.");
            Add<DataGenerateCommand>(data, "data generate", "Write the planted synthetic dataset as a Taobao-format CSV.");
        });
        config.AddBranch("bench", bench =>
        {
            bench.SetDescription("Benchmarks that print measured ratios (record results in docs/BENCHMARKS.md).");
            Add<BenchTrainCommand>(bench, "bench train", "Training examples/s and peak RSS per encoder × variant, user-tower and per-channel query latency.");
            Add<BenchIndexCommand>(bench, "bench index", "Exact / IVF / HNSW build, q/s and recall@50; three-channel latency; swaps under load.");
            Add<BenchStreamingCommand>(bench, "bench streaming", "Kafka → Redis-persisted grains vs raw consume; candidates over HTTP at a fixed rate; freshness.");
            Add<BenchTrainerCommand>(bench, "bench trainer", "Streaming trainer: refresh lag p50/p99, update examples/s, serving p99 during vs outside an update, prequential recall vs frozen.");
            Add<BenchDatasetCommand>(bench, "bench dataset", "Memory per interaction of the compact in-memory dataset.");
            Add<BenchCapacityCommand>(bench, "bench capacity", "The unit costs behind docs/CAPACITY.md: grain bytes, CPU per event and per query, bytes per vector, load time, fan-out, trainer examples per core.");
            Add<BenchScaleCommand>(bench, "bench scale", "Replicated vs sharded serving on 1..n silos: serving bytes per silo, p50/p99, CPU per query.");
        });
        config.AddBranch("eval", evaluate =>
        {
            evaluate.SetDescription("Evaluate recommenders.");
            Add<EvalModelCommand>(evaluate, "eval model", "Evaluate a checkpoint's channels (U2I, U2U2I, U2I2I, merged) beside MostPop and ItemCF.");
            Add<EvalBaselineCommand>(evaluate, "eval baseline", "Evaluate MostPop / ItemCF / UserCF under the ComiRec or leave-last-out protocol.");
        });
    }

    private static void Add<TCommand>(IConfigurator config, string path, string description)
        where TCommand : class, ICommand
    {
        Record<TCommand>(path);
        config.AddCommand<TCommand>(path.Split(' ')[^1]).WithDescription(description);
    }

    private static void Add<TCommand>(IConfigurator<CommandSettings> branch, string path, string description)
        where TCommand : class, ICommandLimiter<CommandSettings>
    {
        Record<TCommand>(path);
        branch.AddCommand<TCommand>(path.Split(' ')[^1]).WithDescription(description);
    }

    private static void Record<TCommand>(string path)
    {
        lock (Registered)
        {
            if (!Registered.Exists(c => c.Path == path))
            {
                Registered.Add((path, typeof(TCommand))); // Configure runs once per app (tests build many): record each path once
            }
        }
    }
}
