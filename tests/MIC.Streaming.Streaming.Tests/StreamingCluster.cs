using MIC.Streaming.Hosting;
using MIC.Streaming.Ingestion;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>Builds an in-process Orleans test cluster whose silos are composed exactly like production silos.</summary>
internal static class StreamingCluster
{
    public static async Task<InProcessTestCluster> StartAsync(int silos, string serviceId, RedisServer? redis, IDictionary<string, string?> settings, ILoggerProvider? logs = null, Action<ISiloBuilder>? configure = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var siloOptions = new SiloOptions
        {
            Storage = redis is null ? "Memory" : "Redis",
            Redis = redis?.ConnectionString,
            ServiceId = serviceId,
            ResponseTimeout = TimeSpan.FromSeconds(5),
            ModelStore = settings.TryGetValue("Silo:ModelStore", out var store) && store is not null ? store : "model-store",
            Roles = settings.TryGetValue("Silo:Roles", out var roles) && roles is not null ? roles : "serving",
        };
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) =>
        {
            MicSilo.ConfigureSilo(silo, configuration, siloOptions);
            configure?.Invoke(silo);
        });
        if (logs is not null)
        {
            builder.ConfigureSiloHost((options, host) =>
            {
                host.Logging.AddFilter("MIC", LogLevel.Information);
                host.Logging.AddFilter("Orleans", LogLevel.Warning);
                host.Logging.AddProvider(new PrefixedLoggerProvider(options.SiloName, logs));
            });
        }

        builder.ConfigureClient(client => client.Configure<Orleans.Configuration.ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10)));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    public static IEnumerable<IngestionInstruments> Ingestion(InProcessTestCluster cluster) =>
        cluster.GetActiveSilos().Select(s => cluster.GetSiloServiceProvider(s.SiloAddress).GetRequiredService<IngestionInstruments>());

    public static Dictionary<string, string?> KafkaSettings(MockKafkaCluster kafka, string topic, string group) => new()
    {
        ["Kafka:BootstrapServers"] = kafka.BootstrapServers,
        ["Kafka:Topic"] = topic,
        ["Kafka:DeadLetterTopic"] = topic + ".dlq",
        ["Kafka:GroupId"] = group,
        ["Kafka:CommitInterval"] = "00:00:00.500",
        ["Kafka:GrainCallTimeout"] = "00:00:03",
        ["Kafka:SessionTimeoutMs"] = "6000",
    };

    /// <summary>Produces events [first, first+count) for users u0..u(users−1): ids "u:i", item "i{i}", timestamps in order.</summary>
    public static void ProduceUserClicks(MockKafkaCluster kafka, string topic, int users, int first, int count)
    {
        using var publisher = new ClickPublisher(kafka.BootstrapServers, topic);
        for (var i = first; i < first + count; i++)
        {
            for (var u = 0; u < users; u++)
            {
                var user = "u" + u.ToString(System.Globalization.CultureInfo.InvariantCulture);
                publisher.Enqueue(new MIC.Streaming.Core.Events.ClickEvent($"{user}:{i}", user, "i" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), 1_700_000_000 + i));
            }
        }

        Xunit.Assert.Equal(0, publisher.Flush(TimeSpan.FromSeconds(30)));
    }

    /// <summary>Every user u0..u(users−1) as its grain shows it.</summary>
    public static Task<MIC.Streaming.Grains.UserView[]> UsersAsync(IGrainFactory grains, int users) =>
        Task.WhenAll(Enumerable.Range(0, users).Select(u => grains.GetGrain<MIC.Streaming.Grains.IUserGrain>("u" + u.ToString(System.Globalization.CultureInfo.InvariantCulture)).GetAsync()));

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout} waiting for: {what}");
            }

            await Task.Delay(200);
        }
    }
}

/// <summary>Tags every line with the silo that logged it.</summary>
internal sealed class PrefixedLoggerProvider(string prefix, ILoggerProvider inner) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Prefixed(prefix, inner.CreateLogger(categoryName));

    public void Dispose()
    {
    }

    private sealed class Prefixed(string prefix, ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            inner.Log(logLevel, eventId, state, exception, (s, e) => $"{DateTime.UtcNow:HH:mm:ss.fff} {prefix} {logLevel}: {formatter(s, e)}");
    }
}
