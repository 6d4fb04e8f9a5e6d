using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using MIC.Streaming.Cli.Streaming;
using MIC.Streaming.Faiss;
using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Ingestion;
using MIC.Streaming.Model;
using MIC.Streaming.Model.Training;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class DemoSettings : TrainSettings
{
    [CommandOption("--rate <EVENTS_PER_SECOND>")]
    [Description("Replay rate of the held-out users' clicks into Kafka.")]
    [DefaultValue(300d)]
    public double Rate { get; init; } = 300;

    [CommandOption("--duration <SECONDS>")]
    [Description("Stop after this many seconds of streaming (0 = until Ctrl-C).")]
    [DefaultValue(60)]
    public int Duration { get; init; } = 60;

    [CommandOption("--port <PORT>")]
    [Description("HTTP port of the API (127.0.0.1).")]
    [DefaultValue(5080)]
    public int Port { get; init; } = 5080;

    [CommandOption("--redis <HOST:PORT>")]
    [Description("Keep grain state in this Redis instead of memory.")]
    public string? Redis { get; init; }

    [CommandOption("--eval-share <FRACTION>")]
    [Description("Share of replayed clicks for which the candidates served just before are checked (online Recall@50).")]
    [DefaultValue(0.5)]
    public double EvalShare { get; init; } = 0.5;

    [CommandOption("--demo-epochs <N>")]
    [Description("Epochs of the initial DSSM+MIC training (kept short so the demo starts quickly).")]
    [DefaultValue(2)]
    public int DemoEpochs { get; init; } = 2;

    [CommandOption("--partitions <N>")]
    [Description("Partitions of the click topic.")]
    [DefaultValue(8)]
    public int Partitions { get; init; } = 8;

    [CommandOption("--no-trainer")]
    [Description("Serve the initial model only (no streaming trainer in the process).")]
    public bool NoTrainer { get; init; }

    [CommandOption("--update-interval <SECONDS>")]
    [Description("Streaming trainer: seconds between incremental updates while clicks arrive.")]
    [DefaultValue(10)]
    public int UpdateInterval { get; init; } = 10;

    [CommandOption("--model-store <DIR>")]
    [Description("Model store folder; kept after exit so `mic report --store DIR` can plot the trainer's online recall. Default: mic-demo/models-<time> under the current folder.")]
    public string? ModelStore { get; init; }

    public override ValidationResult Validate()
    {
        var baseResult = base.Validate();
        if (!baseResult.Successful)
        {
            return baseResult;
        }

        return CliValidation.FirstError(
            CliValidation.Positive("--rate", Rate),
            CliValidation.AtLeast("--duration", Duration, 0),
            Port is < 1 or > 65535 ? ValidationResult.Error($"--port {Port} is not a TCP port (1..65535).") : null,
            EvalShare is < 0 or > 1 || double.IsNaN(EvalShare) ? ValidationResult.Error($"--eval-share {EvalShare} is out of range; it must be within 0..1.") : null,
            CliValidation.AtLeast("--demo-epochs", DemoEpochs, 1),
            CliValidation.AtLeast("--partitions", Partitions, 1),
            CliValidation.AtLeast("--update-interval", UpdateInterval, 1),
            ModelStore is not null && File.Exists(ModelStore) ? ValidationResult.Error($"--model-store '{ModelStore}' is a file; give a folder.") : null);
    }
}

/// <summary>
/// The one-process live system: trains DSSM+MIC on the training users, publishes it (indexes +
/// registry), then replays the held-out users' clicks through Kafka into the grains while
/// checking, before each sampled click, whether the candidates served over HTTP at that moment
/// contained it (online Recall@50, by channel).
/// </summary>
public sealed class DemoCommand : AsyncCommand<DemoSettings>
{
    /// <summary>
    /// Trainer:ReuseFreedMemory bound from the environment the way the demo's silo binds it (the same
    /// binder, so a bad value fails with the silo's message naming the key; default true).
    /// </summary>
    private static bool ReuseFreedMemorySetting() =>
        new ConfigurationBuilder().AddEnvironmentVariables().Build()
            .GetSection(MIC.Streaming.Trainer.TrainerOptions.SectionName).Get<MIC.Streaming.Trainer.TrainerOptions>()?.ReuseFreedMemory ?? true;

    public override async Task<int> ExecuteAsync(CommandContext context, DemoSettings settings, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        // SIGTERM (kill, docker stop, systemd) stops the demo the way Ctrl-C does: the replay, the
        // trainer and the silo all end, and the summary is printed.
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            cts.Cancel();
        });
        // The trainer gets half the cores (at least one) for its updates; serving keeps the rest.
        var overrides = settings.NoTrainer ? null : new Dictionary<string, string?>
        {
            ["Silo:Roles"] = "serving,trainer",
            ["Trainer:UpdateInterval"] = TimeSpan.FromSeconds(settings.UpdateInterval).ToString("c", CultureInfo.InvariantCulture),
            ["Trainer:UpdateEvents"] = "5000",
            ["Trainer:MinNewEvents"] = "300",
            ["Trainer:MaxStepsPerUpdate"] = "60",
            ["Trainer:EvaluateShare"] = "0.2",
            ["Trainer:EvaluateMaxPerSecond"] = "30",
            ["Trainer:EvaluateWindow"] = "1000",
        };
        var store = Path.GetFullPath(settings.ModelStore ?? Path.Combine("mic-demo", "models-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)));

        // The silo starts after a minute of training: its settings (the environment, e.g. Trainer__…,
        // under the demo's) are checked now, and a bad key fails before any work, naming the key.
        LocalSilo.CheckConfiguration(store, settings.Redis, overrides);

        // libtorch starts here, before the demo's silo and its trainer: the allocator policy the trainer
        // would set from Trainer:ReuseFreedMemory is read here, from the same environment.
        var reuseFreedMemory = ReuseFreedMemorySetting();
        var setup = Stopwatch.StartNew();
        AnsiConsole.Write(new Rule("[bold]MIC.Streaming live demo[/]"));
        TorchRuntime.Initialize(new TorchOptions { Threads = settings.Threads, ReuseFreedMemory = reuseFreedMemory });
        var dataset = CliData.Load(settings);
        CliData.PrintStats(dataset);
        var split = CliData.Split(dataset, settings);
        var options = settings.ToOptions() with { MaxEpochs = settings.DemoEpochs };
        var (result, _, trainer) = ModelRuns.Train(dataset, split, options, cts.Token);
        Directory.CreateDirectory(store);
        {
            AnsiConsole.MarkupLine("Starting the mock Kafka cluster and the silo…");
            await using var silo = await LocalSilo.StartAsync(settings.Port, settings.Partitions, store, settings.Redis, overrides);
            using (trainer)
            {
                var manifest = new CheckpointManifest
                {
                    Options = options, Dataset = dataset.Name, Protocol = split.Protocol, SplitSeed = settings.Seed,
                    Step = result.Steps, Epochs = result.Epochs, BestValidRecall50 = result.BestValidRecall50, CreatedUtc = DateTimeOffset.UtcNow,
                };
                // The version carries the training users' sequences only: the held-out users arrive through Kafka.
                var trainOnly = WithSequences(dataset, split.Train);
                var info = await ModelPublisher.PublishAsync(silo.Grains, store, trainer.Model, trainOnly, split.Train, manifest, new IndexBuildOptions(), ModelRuns.Name(options), TimeProvider.System);
                AnsiConsole.MarkupLine($"Published model version [green]{info.Version}[/] to {Markup.Escape(info.Path)}.");
            }

            var serving = silo.App.Services.GetRequiredService<ServingModel>();
            while (!serving.IsReady)
            {
                await Task.Delay(100, cts.Token);
            }

            var testUsers = split.Test.Select(c => c.User).ToHashSet();
            AnsiConsole.MarkupLine($"API on [link]{silo.BaseUrl}[/] ([grey]{silo.BaseUrl}/openapi/v1.json[/]); model store [grey]{Markup.Escape(store)}[/] (kept: [grey]mic report --store {Markup.Escape(store)}[/]).");
            AnsiConsole.MarkupLine(settings.Redis is null
                ? "[yellow]Grain state: in-memory provider (lost on exit; --redis HOST:PORT to persist).[/]"
                : $"Grain state: Redis at {Markup.Escape(settings.Redis)}.");
            var events = ReplayEvents.FromDataset(dataset, u => testUsers.Contains(u) ? 0 : int.MaxValue).ToList();
            var walk = new MIC.Streaming.Core.Synthetic.CoClickWalk(dataset, [.. testUsers], settings.Seed);
            AnsiConsole.MarkupLine($"Set-up took {setup.Elapsed.TotalSeconds:F0} s. Streaming {(settings.Duration > 0 ? $"for {settings.Duration} s from the first click" : "until Ctrl-C")} at {settings.Rate:F0} clicks/s: " +
                $"first the {testUsers.Count:N0} held-out users' {events.Count:N0} recorded clicks, then new clicks that continue their sequences (a random walk over the data's next-item transitions). Ctrl-C or SIGTERM stops.");
            var popular = PopularItems(dataset, split);
            var run = new DemoRun(silo, serving, settings, popular);
            await run.RunAsync(events, walk, cts.Token);
            AnsiConsole.Write(run.Summary());
            return 0;
        }
    }

    /// <summary>The dataset's ids, fields and categories (same rows) with <paramref name="sequences"/> as its interactions.</summary>
    private static MIC.Streaming.Core.Data.InteractionDataset WithSequences(MIC.Streaming.Core.Data.InteractionDataset dataset, MIC.Streaming.Core.Data.SequenceTable sequences)
    {
        var builder = new MIC.Streaming.Core.Data.DatasetBuilder(dataset.Name);
        builder.SeedFrom(dataset);
        for (var u = 0; u < sequences.UserCount; u++)
        {
            var user = dataset.Users.GetRaw(u);
            var items = sequences.Sequence(u);
            var times = sequences.SequenceTimes(u);
            for (var i = 0; i < items.Length; i++)
            {
                builder.Add(user, dataset.Items.GetRaw(items[i]), times[i]);
            }
        }

        return builder.Build();
    }

    /// <summary>Training-set popularity (what a MostPop service would serve), for a same-moment comparison.</summary>
    private static string[] PopularItems(MIC.Streaming.Core.Data.InteractionDataset dataset, MIC.Streaming.Core.Splits.DatasetSplit split)
    {
        var mostPop = new MIC.Streaming.Core.Baselines.MostPop();
        mostPop.Fit(split.Train, dataset.ItemCount);
        var ranked = mostPop.Ranked;
        var list = new string[Math.Min(DemoRun.K + 200, ranked.Length)];
        for (var i = 0; i < list.Length; i++)
        {
            list[i] = dataset.Items.GetRaw(ranked[i]);
        }

        return list;
    }
}
