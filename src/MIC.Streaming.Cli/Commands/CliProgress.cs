using System.Globalization;
using Spectre.Console;

namespace MIC.Streaming.Cli.Commands;

/// <summary>
/// One progress display for every long step. On a terminal it is a Spectre progress bar; when the
/// output is redirected (logs, CI, <c>| tee</c>) a bar would be re-printed frozen at whatever
/// fraction it had, so it writes one plain line each time another 10 % is done instead.
/// </summary>
internal sealed class CliProgress
{
    private readonly ProgressTask? _task;
    private readonly string _name;
    private int _lastDecile = -1;
    private double _lastFraction;

    private CliProgress(ProgressTask? task, string name)
    {
        _task = task;
        _name = name;
        Description = name;
    }

    /// <summary>The text beside the bar (plain text, not markup); printed with each 10 % line when redirected.</summary>
    public string Description { get; set; }

    public static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="work"/> with a progress display named <paramref name="name"/>.</summary>
    public static void Run(string name, Action<CliProgress> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!Interactive)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var plain = new CliProgress(null, name);
            AnsiConsole.WriteLine($"{name}: started");
            work(plain);
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: done in {started.Elapsed.TotalSeconds:F1}s"));
            return;
        }

        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var bar = new CliProgress(ctx.AddTask(Markup.Escape(name), maxValue: 1.0), name);
                work(bar);
                bar.Report(1.0);
            });
    }

    /// <summary>The asynchronous form of <see cref="Run"/>.</summary>
    public static async Task RunAsync(string name, Func<CliProgress, Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!Interactive)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            AnsiConsole.WriteLine($"{name}: started");
            await work(new CliProgress(null, name)).ConfigureAwait(false);
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: done in {started.Elapsed.TotalSeconds:F1}s"));
            return;
        }

        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var bar = new CliProgress(ctx.AddTask(Markup.Escape(name), maxValue: 1.0), name);
                await work(bar).ConfigureAwait(false);
                bar.Report(1.0);
            }).ConfigureAwait(false);
    }

    /// <summary>Fraction done, 0..1.</summary>
    public void Report(double fraction)
    {
        fraction = Math.Clamp(fraction, 0, 1);
        if (_task is not null)
        {
            _task.Value = fraction;
            _task.Description = Markup.Escape(Description);
            return;
        }

        if (fraction < _lastFraction)
        {
            _lastDecile = -1; // a new pass (the next epoch) starts again from 0
        }

        _lastFraction = fraction;
        var decile = (int)(fraction * 10);
        if (decile > _lastDecile && decile < 10)
        {
            _lastDecile = decile;
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Description}: {decile * 10} %"));
        }
    }

    /// <summary>A line above the bar (or in the log).</summary>
    public static void Note(string text) => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(text)}[/]");
}
