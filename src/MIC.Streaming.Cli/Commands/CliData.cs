using System.Globalization;
using System.Text;
using System.Text.Json;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Evaluation;
using MIC.Streaming.Core.Import;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Core.Synthetic;
using Spectre.Console;

namespace MIC.Streaming.Cli.Commands;

/// <summary>A user error: printed as one line (<c>error: …</c>) with exit code 1, no stack trace.</summary>
internal sealed class CliException(string message) : Exception(message);

/// <summary>Shared CLI steps: load a dataset with a progress bar, split it, print and save result tables.</summary>
internal static class CliData
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public static InteractionDataset Load(DataSettings settings)
    {
        if (settings.Data is null)
        {
            var options = settings.SyntheticOptions();
            AnsiConsole.MarkupLine($"[grey]Using built-in synthetic data: {options.Users} users, {options.Items} items, {options.Categories} categories, seed {options.Seed}.[/]");
            var synthetic = new SyntheticDataGenerator(options).BuildDataset();
            return RequireInteractions(settings.KCore > 0 ? KCoreFilter.Apply(synthetic, settings.KCore) : synthetic, settings);
        }

        InteractionDataset? dataset = null;
        ImportReport? report = null;
        CliProgress.Run($"Importing {Path.GetFileName(settings.Data.TrimEnd('/'))}", bar =>
        {
            var progress = new SynchronousProgress<double>(bar.Report);
            (dataset, report) = DatasetImporters.Load(settings.Data, settings.Format!, settings.ImportOptions(progress), settings.KCore);
        });

        if (report!.BadLines > 0)
        {
            AnsiConsole.MarkupLine($"[yellow]Skipped {report.BadLines} malformed line(s); first ones:[/]");
            foreach (var example in report.BadLineExamples)
            {
                AnsiConsole.WriteLine("  " + example);
            }
        }

        if (report.Filtered > 0)
        {
            AnsiConsole.MarkupLine($"[grey]Filtered out {report.Filtered} line(s) by behaviour/rating.[/]");
        }

        return RequireInteractions(dataset!, settings);
    }

    /// <summary>An empty dataset is an error, not a table of zeros.</summary>
    private static InteractionDataset RequireInteractions(InteractionDataset dataset, DataSettings settings)
    {
        if (dataset.UserCount > 0 && dataset.InteractionCount > 0)
        {
            return dataset;
        }

        var source = settings.Data is null ? "the synthetic data" : $"--data '{settings.Data}' (--format {settings.Format})";
        throw new CliException(settings.KCore > 0
            ? $"{source} has no interactions left after --k-core {settings.KCore}; lower --k-core."
            : $"{source} holds no interactions; nothing to do.");
    }

    /// <summary>The dataset and split summary, printed before any long step.</summary>
    public static void PrintSplit(InteractionDataset dataset, DatasetSplit split)
    {
        AnsiConsole.MarkupLine(Markup.Escape($"{dataset.Name}: {dataset.UserCount:N0} users, {dataset.ItemCount:N0} items, {dataset.InteractionCount:N0} interactions; protocol {split.Protocol}: {split.TrainUserCount:N0} train users, {split.Valid.Count:N0} valid, {split.Test.Count:N0} test (dropped {split.DroppedEvalUsers})."));
        if (split.Test.Count == 0 || split.TrainUserCount == 0)
        {
            throw new CliException($"{dataset.Name}: the {split.Protocol} split leaves {split.TrainUserCount} train and {split.Test.Count} test users; the dataset is too small to evaluate.");
        }
    }

    public static DatasetSplit Split(InteractionDataset dataset, ProtocolSettings settings) => Split(dataset, settings, settings.MaxLen);

    /// <summary>The settings' split with evaluation histories cut at <paramref name="maxLen"/> instead of --max-len (the same users and targets).</summary>
    public static DatasetSplit Split(InteractionDataset dataset, ProtocolSettings settings, int maxLen) => settings.Protocol switch
    {
        "leave-last-out" => LeaveLastOutSplitter.Split(dataset, maxLen),
        _ => ComiRecSplitter.Split(dataset, settings.Seed, maxLen),
    };

    public static void PrintStats(InteractionDataset d)
    {
        var lengths = Enumerable.Range(0, d.UserCount).Select(d.Sequences.Length).ToArray();
        var table = new Table().AddColumn("statistic").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("dataset", Markup.Escape(d.Name));
        table.AddRow("users", d.UserCount.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("items", d.ItemCount.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("interactions", d.InteractionCount.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("categories", d.Categories.Count.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("attributes", d.Attributes.Count.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("behaviours", Markup.Escape(string.Join(", ", d.Behaviours.RawIds)));
        table.AddRow("user fields", Markup.Escape(string.Join(", ", d.UserFields.Select(f => $"{f.Name} ({f.Vocabulary.Count})"))));
        if (lengths.Length > 0)
        {
            table.AddRow("mean / max sequence length", $"{lengths.Average():F2} / {lengths.Max()}");
        }

        var density = d.UserCount == 0 || d.ItemCount == 0 ? 0 : (double)d.InteractionCount / d.UserCount / d.ItemCount;
        table.AddRow("density", density.ToString("P4", CultureInfo.InvariantCulture));
        table.AddRow("memory (arrays / with id maps)", $"{d.ArrayBytes() / 1048576.0:F1} MiB / {d.EstimatedBytes() / 1048576.0:F1} MiB");
        AnsiConsole.Write(table);
    }

    public static Table ResultsTable(IReadOnlyList<EvaluationResult> results, IReadOnlyList<int> cutoffs)
    {
        var table = new Table().Title("[bold]Test results (per-user averages)[/]");
        table.AddColumn("model");
        foreach (var n in cutoffs)
        {
            table.AddColumn(new TableColumn($"R@{n}").RightAligned());
            table.AddColumn(new TableColumn($"NDCG@{n}").RightAligned());
            table.AddColumn(new TableColumn($"HR@{n}").RightAligned());
        }

        table.AddColumn(new TableColumn("users").RightAligned());
        table.AddColumn(new TableColumn("time").RightAligned());
        foreach (var r in results)
        {
            var row = new List<string> { Markup.Escape(r.Model) };
            foreach (var n in cutoffs)
            {
                row.Add(F(r.Metrics[$"Recall@{n}"]));
                row.Add(F(r.Metrics[$"NDCG@{n}"]));
                row.Add(F(r.Metrics[$"HitRate@{n}"]));
            }

            row.Add(r.Users.ToString(CultureInfo.InvariantCulture));
            row.Add($"{r.FitSeconds + r.EvalSeconds:F1}s");
            table.AddRow(row.ToArray());
        }

        return table;
    }

    public static void Save(string dir, IReadOnlyList<EvaluationResult> results)
    {
        AnsiConsole.MarkupLine($"[grey]Writing results to {Markup.Escape(dir)}/[/]");
        Directory.CreateDirectory(dir);
        var json = Path.Combine(dir, "results.json");
        File.WriteAllText(json, JsonSerializer.Serialize(results, JsonOptions));
        var csv = new StringBuilder();
        var metricNames = results.SelectMany(r => r.Metrics.Keys).Distinct().ToList();
        csv.AppendLine("dataset,protocol,model,users,fit_seconds,eval_seconds," + string.Join(',', metricNames));
        foreach (var r in results)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{CsvField(r.Dataset)},{CsvField(r.Protocol)},{CsvField(r.Model)},{r.Users},{r.FitSeconds:F3},{r.EvalSeconds:F3}");
            foreach (var m in metricNames)
            {
                csv.Append(',').Append(r.Metrics.TryGetValue(m, out var v) ? v.ToString("F6", CultureInfo.InvariantCulture) : string.Empty);
            }

            csv.AppendLine();
        }

        File.WriteAllText(Path.Combine(dir, "results.csv"), csv.ToString());
        AnsiConsole.MarkupLine($"[grey]Wrote {Markup.Escape(json)} and results.csv[/]");
    }

    private static string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);

    /// <summary>A CSV field, quoted (RFC 4180) when it holds a comma, a quote or a line break, e.g. "model [Merged 1:2:1, tuned]".</summary>
    private static string CsvField(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
