using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using MIC.Streaming.Core.Synthetic;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class BenchDatasetSettings : CommandSettings
{
    [CommandOption("--interactions <N>")]
    [Description("Approximate number of synthetic interactions to build (users = N / 20).")]
    [DefaultValue(10_000_000)]
    public int Interactions { get; init; } = 10_000_000;

    [CommandOption("--items <N>")]
    [Description("Number of items.")]
    [DefaultValue(200_000)]
    public int Items { get; init; } = 200_000;
}

/// <summary>
/// <c>mic bench dataset</c>: builds a large synthetic dataset and prints the memory it holds per
/// interaction (arrays alone, with id maps, and the managed heap growth measured after a full GC).
/// </summary>
public sealed class BenchDatasetCommand : Command<BenchDatasetSettings>
{
    public override int Execute(CommandContext context, BenchDatasetSettings settings, CancellationToken cancellationToken)
    {
        var options = new SyntheticOptions { Users = Math.Max(10, settings.Interactions / 20), Items = settings.Items, Categories = 200 };
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var watch = Stopwatch.StartNew();
        var dataset = new SyntheticDataGenerator(options).BuildDataset("bench");
        var seconds = watch.Elapsed.TotalSeconds;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        var n = (double)dataset.InteractionCount;

        var table = new Table().AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("interactions", dataset.InteractionCount.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("users / items", $"{dataset.UserCount:N0} / {dataset.ItemCount:N0}");
        table.AddRow("generate + build", $"{seconds:F1} s ({n / seconds / 1e6:F2} M interactions/s)");
        table.AddRow("arrays, bytes/interaction", (dataset.ArrayBytes() / n).ToString("F2", CultureInfo.InvariantCulture));
        table.AddRow("arrays + id maps (estimate), bytes/interaction", (dataset.EstimatedBytes() / n).ToString("F2", CultureInfo.InvariantCulture));
        table.AddRow("managed heap growth, bytes/interaction", ((after - before) / n).ToString("F2", CultureInfo.InvariantCulture));
        table.AddRow("managed heap growth, MiB", ((after - before) / 1048576.0).ToString("F0", CultureInfo.InvariantCulture));
        table.AddRow("process peak working set, MiB", (Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0).ToString("F0", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        GC.KeepAlive(dataset);
        return 0;
    }
}
