using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Model;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using MIC.Streaming.Retrieval.Channels;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class BenchTrainSettings : GridSettings
{
    [CommandOption("--steps <N>")]
    [Description("Timed steps per configuration (after 3 warm-up steps).")]
    [DefaultValue(20)]
    public int Steps { get; init; } = 20;

    [CommandOption("--reference")]
    [Description("Also time the same DSSM(+MIC) step in PyTorch (bench/reference/mic_train_step.py under /usr/bin/python3, Debian's python3-torch) on the same batches, and print the ratio.")]
    public bool Reference { get; init; }

    [CommandOption("--queries <N>")]
    [Description("Single-user queries timed for the user tower and each channel.")]
    [DefaultValue(500)]
    public int Queries { get; init; } = 500;
}

/// <summary>
/// <c>mic bench train</c>: training examples/s per encoder × variant (batch, dim, threads as given),
/// the process's peak RSS after each, the user-tower latency for one user (history --max-len), and
/// per-channel single-query latency with exact search. All measured in one run.
/// </summary>
public sealed class BenchTrainCommand : Command<BenchTrainSettings>
{
    public override int Execute(CommandContext context, BenchTrainSettings settings, CancellationToken cancellationToken)
    {
        TorchRuntime.Initialize(new TorchOptions { Threads = settings.Threads });
        var dataset = CliData.Load(settings);
        var split = CliData.Split(dataset, settings);
        var tables = new FeatureTables(dataset);
        var examples = new TrainingExamples(split.Train);
        var table = new Table().AddColumns("encoder", "variant", "examples/s", "PyTorch ex/s (ours ÷ theirs), phases", "ms/step", "batch/fwd/bwd/opt ms", "peak RSS MiB", "support sets s", "user tower p50 ms", "U2I p50/p99 ms", "U2U2I p50/p99 ms", "U2I2I p50/p99 ms");
        var rng = new Random(1);
        foreach (var (encoder, variant, options) in settings.Grid())
        {
            using var trainer = new MicTrainer(tables, options);
            trainer.RefreshSupportSets(split.Train); // warm-up
            var refresh = Stopwatch.StartNew();
            trainer.RefreshSupportSets(split.Train);
            var refreshSeconds = refresh.Elapsed.TotalSeconds;
            int[] Batch() => [.. Enumerable.Range(0, options.BatchSize).Select(_ => rng.Next(examples.Count))];
            for (var i = 0; i < 3; i++)
            {
                trainer.TrainStep(examples, Batch(), report: false);
            }

            trainer.ResetStepTimes();
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < settings.Steps; i++)
            {
                trainer.TrainStep(examples, Batch(), report: false);
            }

            var seconds = watch.Elapsed.TotalSeconds;
            var rss = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
            var ours = settings.Steps * options.BatchSize / seconds;
            var reference = !settings.Reference ? "–"
                : trainer.Model.Encoder is not MIC.Streaming.Model.Encoders.Dssm ? "no reference"
                : PyTorchReference(trainer, examples, [.. Enumerable.Range(0, 4).Select(_ => Batch())], settings.Steps, settings.Threads, ours);
            var (tower, u2i, u2u2i, u2i2i) = Latencies(trainer.Embeddings, split, settings.Queries, settings.MaxLen);
            table.AddRow(
                encoder,
                variant,
                ours.ToString("F0", CultureInfo.InvariantCulture),
                reference,
                (seconds * 1000 / settings.Steps).ToString("F1", CultureInfo.InvariantCulture),
                Phases(trainer.StepTimes),
                rss.ToString("F0", CultureInfo.InvariantCulture),
                refreshSeconds.ToString("F2", CultureInfo.InvariantCulture),
                tower.ToString("F2", CultureInfo.InvariantCulture),
                u2i,
                u2u2i,
                u2i2i);
            AnsiConsole.MarkupLine($"[grey]{encoder} {variant} done[/]");
        }

        AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>Exports real batches and the model's sizes, times the PyTorch step, returns "N (ratio×)" (ours ÷ PyTorch).</summary>
    private static string PyTorchReference(MicTrainer trainer, TrainingExamples examples, IReadOnlyList<int[]> batches, int steps, int threads, double ours)
    {
        var dir = Path.Combine(Path.GetTempPath(), "mic-reference-" + Guid.NewGuid().ToString("N"));
        try
        {
            ReferenceExport.Write(dir, trainer, examples, batches, steps, threads);
            var script = Path.Combine(AppContext.BaseDirectory, "reference", "mic_train_step.py");
            if (!File.Exists(script))
            {
                throw new CliException($"The PyTorch reference script is missing: {script}.");
            }

            var start = new ProcessStartInfo("/usr/bin/python3") { ArgumentList = { script, dir }, RedirectStandardOutput = true, RedirectStandardError = true };
            if (TorchRuntime.MmapThreshold is { } threshold)
            {
                // The same allocator policy as ours (TorchRuntime), so the ratio compares the frameworks.
                start.Environment["MALLOC_MMAP_THRESHOLD_"] = threshold.ToString(CultureInfo.InvariantCulture);
                start.Environment["MALLOC_TRIM_THRESHOLD_"] = TorchRuntime.TrimThreshold.ToString(CultureInfo.InvariantCulture);
            }

            using var p = Process.Start(start) ?? throw new CliException("Could not start /usr/bin/python3.");
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                throw new CliException($"The PyTorch reference failed (is python3-torch installed? apt-get install python3-torch python3-numpy): {stderr.Result.Trim().Split('\n')[^1]}");
            }

            using var json = System.Text.Json.JsonDocument.Parse(stdout.Result.Trim().Split('\n')[^1]);
            var root = json.RootElement;
            var theirs = root.GetProperty("examples_per_second").GetDouble();
            double Ms(string name) => root.GetProperty(name).GetDouble();
            return string.Create(CultureInfo.InvariantCulture, $"{theirs:F0} ({ours / theirs:F2}×) fwd/bwd/opt {Ms("forward_ms"):F0}/{Ms("backward_ms"):F0}/{Ms("optimizer_ms"):F0} ms");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new CliException("--reference needs /usr/bin/python3 with Debian's python3-torch (apt-get install python3-torch python3-numpy).");
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static (double Tower, string U2I, string U2U2I, string U2I2I) Latencies(ModelEmbeddings embeddings, DatasetSplit split, int queries, int maxLen)
    {
        using var spaces = embeddings.BuildExactSpaces(split.Train);
        var cases = split.Test.Count > 0 ? split.Test : split.Valid;
        var towerTimes = new List<double>();
        var times = new[] { new List<double>(), new List<double>(), new List<double>() };
        var options = new ChannelOptions();
        for (var q = 0; q < queries; q++)
        {
            var c = cases[q % cases.Count];
            var sw = Stopwatch.StartNew();
            var query = embeddings.Encode([c.History.AsMemory()], [c.User])[0] with { UserIndex = null };
            towerTimes.Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            U2IChannel.Retrieve(spaces, query, 50);
            times[0].Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            U2U2IChannel.Retrieve(spaces, query, 50, options);
            times[1].Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            U2I2IChannel.Retrieve(spaces, query, 50, options);
            times[2].Add(sw.Elapsed.TotalMilliseconds);
        }

        string P(List<double> t) => string.Create(CultureInfo.InvariantCulture, $"{Percentile(t, 0.5):F2}/{Percentile(t, 0.99):F2}");
        return (Percentile(towerTimes, 0.5), P(times[0]), P(times[1]), P(times[2]));
    }

    private static string Phases(StepPhaseTimes t) => string.Join(
        '/',
        new[] { t.Batch, t.Forward, t.Backward, t.Optimizer }.Select(ticks => t.MeanMs(ticks).ToString("F0", CultureInfo.InvariantCulture)));

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
    }
}
