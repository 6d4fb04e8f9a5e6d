using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Core.Metrics;
using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Hosting;
using MIC.Streaming.Ingestion;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using MIC.Streaming.Cli.Commands;

namespace MIC.Streaming.Cli.Streaming;

/// <summary>The part of <c>GET /v1/users/{id}</c> the hint needs.</summary>
internal sealed record UserDto(string UserId, long TotalEvents);

/// <summary>
/// The demo's live part: replays the held-out users' clicks through Kafka into the grains and, before
/// each sampled click, asks the HTTP API for the user's top-<see cref="K"/> candidates (online Recall@50
/// by channel, beside MostPop at the same moment), rendering a live table.
/// </summary>
internal sealed class DemoRun(LocalSilo silo, ServingModel serving, DemoSettings settings, string[] popular)
{
    /// <summary>Candidates asked for per check (online Recall@K).</summary>
    public const int K = 50;

    private readonly LatencyRing _latency = new(16_384);
    private readonly Dictionary<string, HashSet<string>> _seen = [];
    private readonly Random _random = new(settings.Seed);
    private long _sent;
    private int _total;
    private long _queries;
    private long _hits;
    private long _popularHits;
    private long _coldStarts;
    private long _failed;
    private readonly long[] _channelHits = new long[3];

    private string? _example;

    public async Task RunAsync(List<ClickEvent> events, MIC.Streaming.Core.Synthetic.CoClickWalk walk, CancellationToken cancellationToken)
    {
        _total = events.Count;
        using var http = new HttpClient { BaseAddress = new Uri(silo.BaseUrl) };
        using var publisher = new ClickPublisher(silo.BootstrapServers, silo.TopicName, lingerMs: 1);
        var started = Stopwatch.GetTimestamp();
        var replay = Task.Run(() => ReplayAsync(events, walk, http, publisher, started, cancellationToken), cancellationToken);
        var table = new Table().Border(TableBorder.Rounded).AddColumn("Live").AddColumn(new TableColumn("Value").RightAligned());
        long lastApplied = 0;
        var lastTick = Stopwatch.GetTimestamp();
        // A terminal gets a live table; redirected output (logs, CI) a progress line every 5 s.
        var redirected = Console.IsOutputRedirected;
        async Task LoopAsync(Action refresh)
        {
            var tick = 0;
            while (!cancellationToken.IsCancellationRequested)
            {
                var elapsed = Stopwatch.GetElapsedTime(started);
                if (settings.Duration > 0 && elapsed.TotalSeconds >= settings.Duration)
                {
                    break;
                }

                var applied = silo.Ingestion.TotalApplied;
                var rate = (applied - lastApplied) / Math.Max(1e-3, Stopwatch.GetElapsedTime(lastTick).TotalSeconds);
                lastApplied = applied;
                lastTick = Stopwatch.GetTimestamp();
                await FindExampleAsync(http, cancellationToken);
                Render(table, elapsed, rate, replay.IsCompleted, events.Count);
                if (!redirected || tick++ % 5 == 0)
                {
                    refresh();
                }

                try
                {
                    await Task.Delay(1000, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        if (redirected)
        {
            var hinted = false;
            await LoopAsync(() =>
            {
                if (!hinted && _example is not null)
                {
                    hinted = true;
                    AnsiConsole.MarkupLine($"Try: [grey]{Markup.Escape(TryCommand())}[/]");
                }

                AnsiConsole.MarkupLine(
                    $"[grey]{Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s: {Interlocked.Read(ref _sent):N0} produced ({(Interlocked.Read(ref _sent) > _total ? "continuing the stream" : "recorded clicks")}), {silo.Ingestion.TotalApplied:N0} applied, lag {silo.Ingestion.Lag:N0}, " +
                    $"candidates p99 {Ms(_latency, 99, "F1")}, online Recall@50 {(_queries == 0 ? 0 : (double)_hits / _queries):F4}{TrainerLine()}[/]");
            });
        }
        else
        {
            await AnsiConsole.Live(table).StartAsync(ctx => LoopAsync(ctx.Refresh));
        }

        if (!replay.IsCompleted)
        {
            AnsiConsole.MarkupLine("[grey]Stopping the replay…[/]");
        }

        try
        {
            await replay.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
        }
    }

    private string TryCommand() => $"curl '{silo.BaseUrl}/v1/users/{Uri.EscapeDataString(_example!)}/candidates?k=10&channels=u2i,u2i2i'";

    /// <summary>A user for the hint: one whose clicks were produced and who has history in its grain now.</summary>
    private async Task FindExampleAsync(HttpClient http, CancellationToken cancellationToken)
    {
        if (_example is not null)
        {
            return;
        }

        string[] candidates;
        lock (_seen)
        {
            candidates = [.. _seen.Where(p => p.Value.Count >= 3).Select(p => p.Key).Take(5)];
        }

        foreach (var user in candidates)
        {
            try
            {
                var view = await http.GetFromJsonAsync<UserDto>($"/v1/users/{Uri.EscapeDataString(user)}", cancellationToken);
                if (view is { TotalEvents: >= 3 })
                {
                    _example = user;
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not yet
            }
        }
    }

    private static string Ms(LatencyRing ring, double percentile, string format) =>
        ring.Count == 0 ? "–" : ring.Percentile(percentile).ToString(format, CultureInfo.InvariantCulture) + " ms";

    private async Task ReplayAsync(List<ClickEvent> events, MIC.Streaming.Core.Synthetic.CoClickWalk walk, HttpClient http, ClickPublisher publisher, long started, CancellationToken cancellationToken)
    {
        var end = settings.Duration > 0 ? TimeSpan.FromSeconds(settings.Duration) : TimeSpan.MaxValue;
        // The recorded clicks, then the walk that continues them until --duration ends.
        foreach (var evt in events.Concat(Endless(walk)))
        {
            var due = TimeSpan.FromSeconds(_sent / settings.Rate) - Stopwatch.GetElapsedTime(started);
            if (due > TimeSpan.FromMilliseconds(2))
            {
                await Task.Delay(due, cancellationToken);
            }

            if (Stopwatch.GetElapsedTime(started) >= end)
            {
                return;
            }

            HashSet<string>? seen;
            lock (_seen)
            {
                if (!_seen.TryGetValue(evt.UserId, out seen))
                {
                    _seen[evt.UserId] = seen = [];
                }
            }

            if (seen.Count > 0 && _random.NextDouble() < settings.EvalShare)
            {
                await CheckAsync(http, evt, seen, cancellationToken);
            }

            publisher.Enqueue(evt);
            seen.Add(evt.ItemId);
            Interlocked.Increment(ref _sent);
        }

        publisher.Flush(TimeSpan.FromSeconds(10));
    }

    private static IEnumerable<ClickEvent> Endless(MIC.Streaming.Core.Synthetic.CoClickWalk walk)
    {
        while (true)
        {
            yield return walk.Next();
        }
    }

    /// <summary>Served top-50 right before the click: did it contain the clicked item, and through which channel?</summary>
    private async Task CheckAsync(HttpClient http, ClickEvent evt, HashSet<string> seen, CancellationToken cancellationToken)
    {
        var t0 = Stopwatch.GetTimestamp();
        CandidatesDto? response;
        try
        {
            response = await http.GetFromJsonAsync<CandidatesDto>($"/v1/users/{Uri.EscapeDataString(evt.UserId)}/candidates?k={K}", cancellationToken);
        }
        catch (HttpRequestException)
        {
            Interlocked.Increment(ref _failed);
            return;
        }

        _latency.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        if (response is null)
        {
            return;
        }

        _queries++;
        _coldStarts += response.ColdStart ? 1 : 0;
        var hit = Array.Find(response.Items, i => i.ItemId == evt.ItemId);
        if (hit is not null)
        {
            _hits++;
            for (var c = 0; c < 3; c++)
            {
                _channelHits[c] += hit.Channels.Contains(ChannelNames[c]) ? 1 : 0;
            }
        }

        // The same moment, a MostPop service: top-50 popular items the user has not clicked.
        if (popular.Where(p => !seen.Contains(p)).Take(K).Contains(evt.ItemId))
        {
            _popularHits++;
        }
    }

    private string TrainerLine()
    {
        if (silo.App.Services.GetService<MIC.Streaming.Trainer.TrainerHost>()?.LastStatus is not { } t)
        {
            return "";
        }

        var live = t.Online.FirstOrDefault(r => r.Model == "live" && r.Channel == "merged");
        var frozen = t.Online.FirstOrDefault(r => r.Model == "frozen" && r.Channel == "merged");
        return $"; trainer {t.State}{(t.LastError is null ? "" : " (error: " + Markup.Escape(t.LastError) + ")")}, v{t.PublishedVersion}, {t.Updates} updates, prequential Recall@50 updated {live?.Recall ?? 0:F4} vs frozen {frozen?.Recall ?? 0:F4}";
    }

    private static readonly string[] ChannelNames = ["u2i", "u2u2i", "u2i2i"];

    private void Render(Table table, TimeSpan elapsed, double appliedRate, bool replayDone, int total)
    {
        var ingest = silo.Ingestion;
        table.Rows.Clear();
        table.AddRow("Streaming for", $"{elapsed.TotalSeconds:F0} s" + (settings.Duration > 0 ? $" of {settings.Duration} s" : "") + (replayDone ? " (stream ended, still serving)" : ""));
        if (_example is not null)
        {
            table.AddRow("Try", Markup.Escape(TryCommand()));
        }

        table.AddRow("Model version serving", serving.CurrentVersion.ToString(CultureInfo.InvariantCulture));
        var sent = Interlocked.Read(ref _sent);
        table.AddRow("Clicks produced to Kafka", sent <= total ? $"{sent:N0} of {total:N0} recorded" : $"{total:N0} recorded + {sent - total:N0} continuing");
        table.AddRow("Applied to user grains", $"{ingest.TotalApplied:N0} ({appliedRate:F0}/s)");
        table.AddRow("Consumer lag (records)", ingest.Lag.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("Dead-lettered / rewinds", $"{ingest.TotalDeadLettered:N0} / {ingest.TotalRewinds:N0}");
        table.AddRow("Freshness p50 / p99 (produce → in sequence)", $"{Ms(ingest.Freshness, 50, "F1")} / {Ms(ingest.Freshness, 99, "F1")}");
        table.AddRow("Candidates over HTTP p50 / p99", $"{Ms(_latency, 50, "F2")} / {Ms(_latency, 99, "F2")}");
        table.AddRow("Checked clicks (cold starts)", $"{_queries:N0} ({_coldStarts:N0})");
        table.AddRow("[bold]Online Recall@50, merged channels[/]", _queries == 0 ? "–" : $"[bold]{(double)_hits / _queries:F4}[/]");
        table.AddRow("  hit found by U2I / U2U2I / U2I2I", _queries == 0 ? "–" : string.Join(" / ", _channelHits.Select(h => ((double)h / _queries).ToString("F4", CultureInfo.InvariantCulture))));
        table.AddRow("  MostPop at the same moments", _queries == 0 ? "–" : ((double)_popularHits / _queries).ToString("F4", CultureInfo.InvariantCulture));
        if (silo.App.Services.GetService<MIC.Streaming.Trainer.TrainerHost>()?.LastStatus is { } t)
        {
            table.AddRow("[bold]Streaming trainer[/]", $"{t.State} on {Markup.Escape(t.Silo)}, published v{t.PublishedVersion}");
            table.AddRow("  events read / trained, updates", $"{t.EventsSeen:N0} / {t.EventsTrained:N0}, {t.Updates}");
            table.AddRow("  last update, examples/s", $"{t.LastUpdateSeconds:F1} s, {t.ExamplesPerSecond:N0}");
            table.AddRow("  users / items known", $"{t.Users:N0} / {t.Items:N0}");
            if (t.LastError is { } error)
            {
                table.AddRow("  [red]last trainer error[/]", Markup.Escape(error.Length > 160 ? error[..160] : error));
            }
            foreach (var model in new[] { "live", "frozen" })
            {
                var rows = t.Online.Where(r => r.Model == model).ToList();
                if (rows.Count > 0)
                {
                    var label = model == "live" ? "  prequential Recall@50, updated model" : "  prequential Recall@50, frozen v1";
                    table.AddRow($"{label} (merged, u2i/u2u2i/u2i2i)", $"{rows.Single(r => r.Channel == "merged").Recall:F4} ({string.Join("/", rows.Where(r => r.Channel != "merged").Select(r => r.Recall.ToString("F3", CultureInfo.InvariantCulture)))}) n={rows[0].Evaluated}");
                }
            }
        }

        if (_failed > 0)
        {
            table.AddRow("[red]Failed requests[/]", _failed.ToString("N0", CultureInfo.InvariantCulture));
        }
    }

    public Table Summary()
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Demo summary").AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned());
        Render(table, TimeSpan.Zero, 0, true, _total);
        table.Rows.RemoveAt(0);
        return table;
    }
}
