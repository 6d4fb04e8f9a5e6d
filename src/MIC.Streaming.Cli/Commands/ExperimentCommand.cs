using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Evaluation;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using MIC.Streaming.Retrieval.Channels;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

/// <summary>Training settings plus the encoder × variant grid (experiment, bench train).</summary>
public class GridSettings : TrainSettings
{
    [CommandOption("--encoders <LIST>")]
    [Description("Comma-separated encoders of the grid.")]
    [DefaultValue("dssm,youtubednn,comirec-sa,comirec-dr")]
    public string Encoders { get; init; } = "dssm,youtubednn,comirec-sa,comirec-dr";

    [CommandOption("--variants <LIST>")]
    [Description("Comma-separated variants of the grid (base, ui, uu, ii, full).")]
    [DefaultValue("base,full")]
    public string Variants { get; init; } = "base,full";

    public override ValidationResult Validate()
    {
        var result = base.Validate();
        return !result.Successful ? result : CliValidation.FirstError(
            CliValidation.OneOfEach("--encoders", Encoders, [.. MIC.Streaming.Model.Encoders.EncoderRegistry.Names]),
            CliValidation.OneOfEach("--variants", Variants, [.. Enum.GetNames<MicVariant>().Select(n => n.ToLowerInvariant())]));
    }

    public IEnumerable<(string Encoder, string Variant, TrainOptions Options)> Grid()
    {
        var baseOptions = ToOptions();
        foreach (var encoder in CliValidation.List(Encoders))
        {
            foreach (var variant in CliValidation.List(Variants))
            {
                yield return (encoder, variant, baseOptions with { Encoder = encoder, Mic = baseOptions.Mic with { Variant = Enum.Parse<MicVariant>(variant, ignoreCase: true) } });
            }
        }
    }
}

public sealed class ExperimentSettings : GridSettings
{
    [CommandOption("--seeds <LIST>")]
    [Description("Comma-separated training seeds (the user split keeps --seed, so baselines are shared).")]
    [DefaultValue("2020,2021,2022")]
    public string Seeds { get; init; } = "2020,2021,2022";

    [CommandOption("--channels <LIST>")]
    [Description("Comma-separated inference channels to score: U2I, U2U2I, U2I2I, Merged.")]
    [DefaultValue("U2I")]
    public string Channels { get; init; } = "U2I";

    public override ValidationResult Validate()
    {
        var result = base.Validate();
        return !result.Successful ? result : CliValidation.FirstError(
            CliValidation.Integers("--seeds", Seeds),
            CliValidation.OneOfEach("--channels", Channels, [.. ChannelEvaluation.Reported.Select(c => c.Name)]));
    }

    public int[] SeedList() => [.. CliValidation.List(Seeds).Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
}

/// <summary>
/// <c>mic experiment</c>: the grid encoder × variant × channel × seed on one dataset split; writes
/// every run (runs.csv / runs.json) and a mean ± sd summary (summary.md / summary.csv), with
/// MostPop and ItemCF on the same split.
/// </summary>
public sealed class ExperimentCommand : Command<ExperimentSettings>
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private static readonly string[] BaselineNames = ["mostpop", "itemcf", "usercf", "ease"];

    public override int Execute(CommandContext context, ExperimentSettings settings, CancellationToken cancellationToken)
    {
        MIC.Streaming.Model.TorchRuntime.Initialize(new MIC.Streaming.Model.TorchOptions { Threads = settings.Threads });
        var dataset = CliData.Load(settings);
        var split = CliData.Split(dataset, settings);
        var channels = ChannelEvaluation.Reported.Where(c => CliValidation.List(settings.Channels).Contains(c.Name, StringComparer.OrdinalIgnoreCase)).ToList();
        var runs = new List<(string Model, string Channel, int Seed, EvaluationResult Result, TrainResult Train)>();
        CliData.PrintSplit(dataset, split);
        AnsiConsole.MarkupLine("[grey]Evaluating the baselines (MostPop; ItemCF, UserCF and EASE tuned on validation users)…[/]");
        var baselines = BaselineNames
            .Select(n => EvalBaselineCommand.TryRun(Recommenders.Spec(n), split, tune: true, fixedValue: null, onTest: !settings.OnValid, settings.ExcludeHistory, cancellationToken))
            .OfType<TunedBaseline>()
            .Select(t => t.Result with { Model = t.Label })
            .ToList();
        var seeds = settings.SeedList();
        var grid = settings.Grid().ToList();
        var total = grid.Count * seeds.Length;
        var started = System.Diagnostics.Stopwatch.StartNew();
        var done = 0;
        foreach (var (_, _, gridOptions) in grid)
        {
            foreach (var seed in seeds)
            {
                var options = gridOptions with { Seed = seed };
                var left = done == 0 ? "unknown until the first run ends" : $"~{TimeSpan.FromSeconds(started.Elapsed.TotalSeconds / done * (total - done)):hh\\:mm\\:ss}";
                AnsiConsole.MarkupLine(Markup.Escape($"Run {done + 1} of {total}: {ModelRuns.Name(options)} seed {seed} (time left {left})"));
                done++;
                var (train, embeddings, trainer) = ModelRuns.Train(dataset, split, options, cancellationToken);
                using (trainer)
                {
                    var name = ModelRuns.Name(options);
                    foreach (var r in ChannelEvaluation.EvaluateSplit(embeddings, split, name, channels, new ChannelOptions(), onTest: !settings.OnValid, excludeHistory: settings.ExcludeHistory))
                    {
                        runs.Add((name, r.Model[(name.Length + 2)..^1], seed, r, train));
                        AnsiConsole.MarkupLine(Markup.Escape($"{r.Model} seed {seed}: R@20 {r.Metrics["Recall@20"]:F4} R@50 {r.Metrics["Recall@50"]:F4} ({train.Epochs} epochs, {train.ExamplesPerSecond:F0} ex/s)"));
                    }
                }
            }
        }

        Write(settings.OutDir("experiment"), dataset.Name, runs, baselines, quiet: false);
        return 0;
    }

    private static void Write(string dir, string dataset, List<(string Model, string Channel, int Seed, EvaluationResult Result, TrainResult Train)> runs, List<EvaluationResult> baselines, bool quiet)
    {
        Directory.CreateDirectory(dir);
        string[] metrics = ["Recall@20", "NDCG@20", "HitRate@20", "Recall@50", "NDCG@50", "HitRate@50"];
        var csv = new StringBuilder("model,channel,seed,epochs,examples_per_second," + string.Join(',', metrics) + "\n");
        foreach (var r in runs)
        {
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{r.Model},{r.Channel},{r.Seed},{r.Train.Epochs},{r.Train.ExamplesPerSecond:F0},{string.Join(',', metrics.Select(m => r.Result.Metrics[m].ToString("F6", CultureInfo.InvariantCulture)))}"));
        }

        File.WriteAllText(Path.Combine(dir, "runs.csv"), csv.ToString());
        File.WriteAllText(Path.Combine(dir, "runs.json"), JsonSerializer.Serialize(runs.Select(r => new { r.Model, r.Channel, r.Seed, r.Result.Metrics, r.Train }), Json));

        var md = new StringBuilder($"Dataset {dataset}; mean ± sd over seeds.\n\n| model | channel | seeds | {string.Join(" | ", metrics)} |\n|---|---|---|{string.Concat(metrics.Select(_ => "---|"))}\n");
        var summaryCsv = new StringBuilder("model,channel,seeds," + string.Join(',', metrics.SelectMany(m => new[] { m + "_mean", m + "_sd" })) + "\n");
        foreach (var g in runs.GroupBy(r => (r.Model, r.Channel)))
        {
            var cells = metrics.Select(m =>
            {
                var values = g.Select(r => r.Result.Metrics[m]).ToArray();
                var mean = values.Average();
                var sd = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : 0;
                return (mean, sd);
            }).ToArray();
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {g.Key.Model} | {g.Key.Channel} | {g.Count()} | {string.Join(" | ", cells.Select(c => $"{c.mean:F4} ± {c.sd:F4}"))} |"));
            summaryCsv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{g.Key.Model},{g.Key.Channel},{g.Count()},{string.Join(',', cells.Select(c => $"{c.mean:F6},{c.sd:F6}"))}"));
        }

        foreach (var b in baselines)
        {
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {b.Model} | – | – | {string.Join(" | ", metrics.Select(m => b.Metrics[m].ToString("F4", CultureInfo.InvariantCulture)))} |"));
        }

        File.WriteAllText(Path.Combine(dir, "summary.md"), md.ToString());
        File.WriteAllText(Path.Combine(dir, "summary.csv"), summaryCsv.ToString());
        if (quiet)
        {
            return;
        }

        AnsiConsole.WriteLine(md.ToString());
        AnsiConsole.MarkupLine($"[grey]Wrote {Markup.Escape(dir)}/summary.md, summary.csv, runs.csv, runs.json[/]");
    }
}
