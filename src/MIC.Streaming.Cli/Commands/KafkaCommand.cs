using System.ComponentModel;
using System.Globalization;
using System.Runtime.InteropServices;
using MIC.Streaming.Ingestion;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

public sealed class KafkaSettings : CommandSettings
{
    [CommandOption("--brokers <N>")]
    [Description("Number of brokers in the mock cluster (each listens on its own loopback port).")]
    [DefaultValue(1)]
    public int Brokers { get; init; } = 1;

    [CommandOption("--topic <NAME:PARTITIONS>")]
    [Description("A topic to create, as name:partitions; repeat the option for several. Default: mic.clicks:16 and mic.clicks.dlq:1.")]
    public string[] Topics { get; init; } = [];

    [CommandOption("--bootstrap-file <PATH>")]
    [Description("Write the bootstrap address (host:port[[,host:port]]) to this file once the brokers listen; it is deleted on exit.")]
    public string? BootstrapFile { get; init; }

    public IReadOnlyList<(string Name, int Partitions)> ParsedTopics =>
        Topics.Length == 0 ? [("mic.clicks", 16), ("mic.clicks.dlq", 1)] : [.. Topics.Select(t => Parse(t)!.Value)];

    public override ValidationResult Validate()
    {
        if (Brokers is < 1 or > 16)
        {
            return ValidationResult.Error($"--brokers {Brokers} is out of range; it must be 1–16.");
        }

        foreach (var topic in Topics)
        {
            if (Parse(topic) is null)
            {
                return ValidationResult.Error($"--topic '{topic}' is not name:partitions with 1–1024 partitions (e.g. mic.clicks:16).");
            }
        }

        return ValidationResult.Success();
    }

    private static (string Name, int Partitions)? Parse(string text)
    {
        var colon = text.LastIndexOf(':');
        return colon > 0
            && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var partitions)
            && partitions is >= 1 and <= 1024
            && text[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')
            ? (text[..colon], partitions)
            : null;
    }
}

/// <summary>
/// A standalone Kafka-protocol broker for machines without Kafka (development, tests, the local
/// cluster of scripts/cluster.sh): librdkafka's mock cluster in this process. Runs until Ctrl-C or
/// SIGTERM; all data is in memory and gone when it stops.
/// </summary>
public sealed class KafkaCommand : AsyncCommand<KafkaSettings>
{
    public const string Description =
        "Dev/test only: a Kafka-protocol mock broker (librdkafka) in this process; no auth, in memory, ~5 MiB per partition; writes its address";

    public override async Task<int> ExecuteAsync(CommandContext context, KafkaSettings settings, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            stop.Cancel();
        });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx =>
        {
            ctx.Cancel = true;
            stop.Cancel();
        });

        using var cluster = new MockKafkaCluster(settings.Brokers);
        foreach (var (name, partitions) in settings.ParsedTopics)
        {
            cluster.CreateTopic(name, partitions);
        }

        if (settings.BootstrapFile is { } file)
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(file))!;
            Directory.CreateDirectory(folder);
            // Written whole then renamed: a reader never sees a half-written address.
            var temporary = file + ".tmp";
            await File.WriteAllTextAsync(temporary, cluster.BootstrapServers + "\n", CancellationToken.None);
            File.Move(temporary, file, overwrite: true);
        }

        AnsiConsole.WriteLine($"mock Kafka: {settings.Brokers} broker(s) at {cluster.BootstrapServers}");
        foreach (var (name, partitions) in settings.ParsedTopics)
        {
            AnsiConsole.WriteLine($"  topic {name}: {partitions} partition(s)");
        }

        AnsiConsole.WriteLine("Development and tests only: no authentication, in memory, ~5 MiB kept per partition. Ctrl-C or SIGTERM stops it.");
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            if (settings.BootstrapFile is { } bootstrapFile)
            {
                File.Delete(bootstrapFile);
            }
        }

        AnsiConsole.WriteLine("mock Kafka stopped.");
        return 0;
    }
}
