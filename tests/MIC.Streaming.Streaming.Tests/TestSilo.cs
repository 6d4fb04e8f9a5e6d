using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using MIC.Streaming.Hosting;
using MIC.Streaming.Ingestion;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>
/// A silo web host composed like the silo executable (Orleans on localhost clustering, memory
/// storage, the API on a free loopback port) over its own mock Kafka cluster.
/// </summary>
internal sealed class TestSilo : IAsyncDisposable
{
    private readonly MockKafkaCluster _kafka;

    private TestSilo(MockKafkaCluster kafka, WebApplication app, HttpClient http)
    {
        _kafka = kafka;
        App = app;
        Http = http;
    }

    public WebApplication App { get; }

    public HttpClient Http { get; }

    public MockKafkaCluster Kafka => _kafka;

    public static async Task<TestSilo> StartAsync(string topic, int partitions, IDictionary<string, string?> overrides, ILoggerProvider? logs = null, Action<IServiceCollection>? services = null)
    {
        var kafka = new MockKafkaCluster(1);
        kafka.CreateTopic(topic, partitions);
        kafka.CreateTopic(topic + ".dlq", 1);
        var port = RedisServer.FreePort();
        var settings = new Dictionary<string, string?>
        {
            ["Urls"] = $"http://127.0.0.1:{port}",
            ["Silo:Clustering"] = "Localhost",
            ["Silo:Storage"] = "Memory",
            ["Silo:SiloPort"] = RedisServer.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Silo:GatewayPort"] = RedisServer.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Silo:ServiceId"] = topic + "-" + Guid.NewGuid().ToString("N")[..8],
            ["Kafka:BootstrapServers"] = kafka.BootstrapServers,
            ["Kafka:Topic"] = topic,
            ["Kafka:DeadLetterTopic"] = topic + ".dlq",
            ["Kafka:CommitInterval"] = "00:00:00.200",
            ["Serving:PollInterval"] = "00:00:00.200",
        };
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddMicSilo();
        services?.Invoke(builder.Services);
        builder.Logging.SetMinimumLevel(LogLevel.Warning); // keep CI output to what matters
        if (logs is not null)
        {
            builder.Logging.ClearProviders();
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
            builder.Logging.AddProvider(logs);
        }

        var app = builder.Build();
        app.MapMicApi();
        await app.StartAsync();
        return new TestSilo(kafka, app, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") });
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        _kafka.Dispose();
    }
}
