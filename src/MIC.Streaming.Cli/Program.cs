using MIC.Streaming.Cli.Commands;
using Spectre.Console.Cli;

if (Console.IsOutputRedirected)
{
    // Logs and CI: wide enough that result tables keep one row per model.
    Spectre.Console.AnsiConsole.Profile.Width = 200;
}

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("mic");
    config.AddCommand<DemoCommand>("demo")
        .WithDescription("The live system in one process: train DSSM+MIC, start mock Kafka + a silo + the HTTP API, replay held-out clicks, show ingestion, latency and online Recall@50.");
    config.AddCommand<OfflineDemoCommand>("offline-demo")
        .WithDescription("Offline only: evaluate the baselines and a short DSSM+MIC on a dataset and print the table.");
    config.AddCommand<ProduceCommand>("produce")
        .WithDescription("Replay a dataset as click events (JSON, keyed by user) into any Kafka cluster at a given rate.");
    config.AddCommand<ReportCommand>("report")
        .WithDescription("Plot the streaming trainer's online (prequential) Recall@K per channel, updated vs frozen, with model-version change points (PNG).");
    config.AddCommand<TrainCommand>("train")
        .WithDescription("Train an encoder (dssm, youtubednn, comirec-sa, comirec-dr) vanilla or +MIC; evaluate U2I / U2U2I / U2I2I / merged; write a checkpoint.");
    config.AddCommand<ExperimentCommand>("experiment")
        .WithDescription("Grid of encoder × variant × channel × seeds → summary.md / .csv (mean ± sd) and every run.");
    config.AddBranch("data", data =>
    {
        data.SetDescription("Import, inspect and generate datasets.");
        data.AddCommand<DataStatsCommand>("stats").WithDescription("Import a dataset and print its statistics.");
        data.AddCommand<DataImportCommand>("import").WithDescription("Import a dataset (streaming), report bad lines, write a compact .micds snapshot.");
        data.AddCommand<DataGenerateCommand>("generate").WithDescription("Write the planted synthetic dataset as a Taobao-format CSV.");
    });
    config.AddBranch("bench", bench =>
    {
        bench.SetDescription("Benchmarks that print measured ratios (record results in docs/BENCHMARKS.md).");
        bench.AddCommand<BenchTrainCommand>("train").WithDescription("Training examples/s and peak RSS per encoder × variant, user-tower and per-channel query latency.");
        bench.AddCommand<BenchIndexCommand>("index").WithDescription("Exact / IVF / HNSW build, q/s and recall@50; three-channel latency; swaps under load.");
        bench.AddCommand<BenchStreamingCommand>("streaming").WithDescription("Kafka → Redis-persisted grains vs raw consume; candidates over HTTP at a fixed rate; freshness.");
        bench.AddCommand<BenchTrainerCommand>("trainer").WithDescription("Streaming trainer: refresh lag p50/p99, update examples/s, serving p99 during vs outside an update, prequential recall vs frozen.");
        bench.AddCommand<BenchDatasetCommand>("dataset").WithDescription("Memory per interaction of the compact in-memory dataset.");
    });
    config.AddBranch("eval", evaluate =>
    {
        evaluate.SetDescription("Evaluate recommenders.");
        evaluate.AddCommand<EvalModelCommand>("model").WithDescription("Evaluate a checkpoint's channels (U2I, U2U2I, U2I2I, merged) beside MostPop and ItemCF.");
        evaluate.AddCommand<EvalBaselineCommand>("baseline").WithDescription("Evaluate MostPop / ItemCF / UserCF under the ComiRec or leave-last-out protocol.");
    });
});
return await app.RunAsync(args).ConfigureAwait(false);
