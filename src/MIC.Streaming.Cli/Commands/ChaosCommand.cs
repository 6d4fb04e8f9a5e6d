using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using MIC.Streaming.Cli.Chaos;
using MIC.Streaming.Ingestion;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class ChaosSettings : CommandSettings
{
    [CommandOption("--bootstrap <SERVERS>")]
    [Description("Kafka bootstrap servers (host:port[[,host:port]]).")]
    public string? Bootstrap { get; init; }

    [CommandOption("--bootstrap-file <PATH>")]
    [Description("Read the bootstrap servers from this file (what `mic kafka --bootstrap-file` writes).")]
    public string? BootstrapFile { get; init; }

    [CommandOption("--topic <TOPIC>")]
    [Description("Click topic.")]
    [DefaultValue("mic.clicks")]
    public string Topic { get; init; } = "mic.clicks";

    [CommandOption("--silos <URLS>")]
    [Description("Serving silos' HTTP base addresses, comma-separated (each query goes to whichever answers).")]
    public string Silos { get; init; } = "";

    [CommandOption("--service <URL>")]
    [Description("The sample service's base address (queries through the Orleans client); empty = HTTP only.")]
    public string? Service { get; init; }

    [CommandOption("--seconds <N>")]
    [Description("How long to produce and query.")]
    [DefaultValue(60)]
    public int Seconds { get; init; } = 60;

    [CommandOption("--rate <EVENTS_PER_SECOND>")]
    [Description("Clicks produced per second.")]
    [DefaultValue(300d)]
    public double Rate { get; init; } = 300;

    [CommandOption("--query-rate <PER_SECOND>")]
    [Description("Candidate queries per second on each path (HTTP, and the Orleans client when --service is set).")]
    [DefaultValue(20d)]
    public double QueryRate { get; init; } = 20;

    [CommandOption("--users <N>")]
    [Description("Users the clicks spread over (at most ~150 clicks each, so every history stays readable; default: enough for that).")]
    [DefaultValue(0)]
    public int Users { get; init; }

    [CommandOption("--deadline-ms <MS>")]
    [Description("A query fails when no silo answered 200 within this.")]
    [DefaultValue(2000)]
    public int DeadlineMs { get; init; } = 2000;

    [CommandOption("--settle <SECONDS>")]
    [Description("After producing: how long histories may take to contain every acknowledged click.")]
    [DefaultValue(180)]
    public int Settle { get; init; } = 180;

    [CommandOption("--restarts-file <PATH>")]
    [Description("A file holding the number of process restarts the disruptor made (scripts/chaos.sh writes it); printed in the last line.")]
    public string? RestartsFile { get; init; }

    [CommandOption("--out <PATH>")]
    [Description("Write the counts as JSON here.")]
    public string? Out { get; init; }

    [CommandOption("--seed <N>")]
    [Description("Seed of users, items and query order.")]
    [DefaultValue(7)]
    public int Seed { get; init; } = 7;

    public int EffectiveUsers => Users > 0 ? Users : (int)Math.Max(500, Math.Ceiling(Seconds * Rate / 100));

    public Uri[] SiloUris => [.. Silos.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => new Uri(s))];

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Bootstrap) == string.IsNullOrWhiteSpace(BootstrapFile))
        {
            return ValidationResult.Error("Give exactly one of --bootstrap and --bootstrap-file.");
        }

        if (BootstrapFile is { Length: > 0 } && !File.Exists(BootstrapFile))
        {
            return ValidationResult.Error($"--bootstrap-file '{BootstrapFile}' does not exist (is `mic kafka` running?).");
        }

        var addresses = Silos.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var url in string.IsNullOrEmpty(Service) ? addresses : [.. addresses, Service])
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                return ValidationResult.Error($"'{url}' is not an http(s) address (--silos, --service).");
            }
        }

        return string.IsNullOrWhiteSpace(Silos) ? ValidationResult.Error("--silos is required (e.g. http://127.0.0.1:8081,http://127.0.0.1:8082).")
            : Seconds < 1 ? ValidationResult.Error($"--seconds {Seconds} is out of range; it must be ≥ 1.")
            : Rate is <= 0 or > 100_000 || double.IsNaN(Rate) ? ValidationResult.Error($"--rate {Rate} is out of range; it must be in (0, 100000].")
            : QueryRate is <= 0 or > 1000 || double.IsNaN(QueryRate) ? ValidationResult.Error($"--query-rate {QueryRate} is out of range; it must be in (0, 1000].")
            : Users < 0 ? ValidationResult.Error($"--users {Users} is out of range; it must be ≥ 0.")
            : Seconds * Rate / EffectiveUsers > 180 ? ValidationResult.Error($"--users {Users} is too few: ~{Seconds * Rate / EffectiveUsers:F0} clicks per user would leave the 200-event window, and the audit could not see them.")
            : DeadlineMs < 100 ? ValidationResult.Error($"--deadline-ms {DeadlineMs} is out of range; it must be ≥ 100.")
            : Settle < 0 ? ValidationResult.Error($"--settle {Settle} is out of range; it must be ≥ 0.")
            : ValidationResult.Success();
    }
}

/// <summary>
/// The load and the audit of scripts/chaos.sh: produces a known click stream and queries candidates
/// at fixed rates while the script kills and restarts processes, then checks every history.
/// </summary>
public sealed class ChaosCommand : AsyncCommand<ChaosSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ChaosSettings settings, CancellationToken cancellationToken)
    {
        var bootstrap = settings.Bootstrap ?? (await File.ReadAllTextAsync(settings.BootstrapFile!, cancellationToken)).Trim();
        if (ClickPublisher.Probe(bootstrap, TimeSpan.FromSeconds(10)) is { } unreachable)
        {
            throw new CliException($"--bootstrap: {unreachable}");
        }

        var plan = new ChaosPlan(
            bootstrap, settings.Topic, settings.SiloUris, settings.Service is { Length: > 0 } s ? new Uri(s) : null,
            TimeSpan.FromSeconds(settings.Seconds), settings.EffectiveUsers, Items: 2000, settings.Rate, settings.QueryRate,
            TimeSpan.FromMilliseconds(settings.DeadlineMs), TimeSpan.FromSeconds(settings.Settle), settings.Seed);
        static void Log(string line) => AnsiConsole.WriteLine($"chaos: {line}");
        Log($"{settings.Seconds} s at {settings.Rate:F0} clicks/s over {plan.Users:N0} users; {settings.QueryRate:F0} queries/s per path; {plan.Silos.Length} silos{(plan.Service is null ? "" : " + the Orleans client")}");

        using var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromMilliseconds(500), PooledConnectionLifetime = TimeSpan.FromSeconds(30) };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var workload = new ChaosWorkload(plan, Log);
        await workload.RunAsync(http, cancellationToken);
        await ChaosAudit.RunAsync(workload, plan, http, Log, cancellationToken);

        var c = workload.Counts;
        var restarts = settings.RestartsFile is { } file && File.Exists(file)
            ? int.Parse((await File.ReadAllTextAsync(file, cancellationToken)).Trim(), CultureInfo.InvariantCulture)
            : 0;
        Log($"{c.UsersAudited:N0} users audited; HTTP queries {c.HttpQueries:N0} (failed {c.HttpFailed:N0}), Orleans-client queries {c.ClientQueries:N0} (failed {c.ClientFailed:N0}); unconfirmed deliveries {c.Unconfirmed:N0}");
        if (!c.FailureReasons.IsEmpty)
        {
            Log("failed queries by last answer: " + string.Join(", ", c.FailureReasons.OrderByDescending(r => r.Value).Select(r => $"{r.Key} × {r.Value}")));
        }

        if (settings.Out is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(new
            {
                c.Produced, c.Applied, c.Lost, c.Duplicated, c.Queries, c.Failed, c.HttpQueries, c.HttpFailed, c.ClientQueries, c.ClientFailed, c.Unconfirmed, c.UsersAudited, Restarts = restarts, FailureReasons = c.FailureReasons.ToDictionary(),
            }), cancellationToken);
        }

        // The one line scripts and people read (exact format: scripts/chaos.sh, docs/BENCHMARKS.md).
        // Unconfirmed clicks never reached the broker: a run with any checked less than it says (the
        // broker, paused and resumed, must take every click once it is back), so it fails too.
        if (c.Unconfirmed > 0)
        {
            Log($"{c.Unconfirmed:N0} clicks were never acknowledged by the broker: the run did not test what it claims (see the broker's log)");
        }

        Console.WriteLine($"chaos: produced {c.Produced}, applied {c.Applied}, lost {c.Lost}, duplicated {c.Duplicated}, unconfirmed {c.Unconfirmed}, queries {c.Queries}, failed {c.Failed}, restarts {restarts}");
        return c.Lost == 0 && c.Duplicated == 0 && c.Unconfirmed == 0 && c.Failed == 0 ? 0 : 1;
    }
}
