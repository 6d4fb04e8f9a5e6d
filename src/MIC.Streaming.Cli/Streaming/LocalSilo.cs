using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MIC.Streaming.Hosting;
using MIC.Streaming.Ingestion;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MIC.Streaming.Cli.Streaming;

/// <summary>
/// One process running the whole live system: librdkafka's mock Kafka cluster (topics created
/// through its native API) and a silo with its consumer, serving and HTTP API, composed by
/// <see cref="MicSilo"/> exactly as the silo executable is. Used by <c>mic demo</c> and the
/// streaming benchmarks.
/// </summary>
internal sealed class LocalSilo : IAsyncDisposable
{
    private readonly MockKafkaCluster _kafka;

    private LocalSilo(MockKafkaCluster kafka, WebApplication app, string baseUrl, string topic)
    {
        _kafka = kafka;
        App = app;
        BaseUrl = baseUrl;
        Topic = topic;
    }

    public WebApplication App { get; }

    public string BaseUrl { get; }

    public string Topic { get; }

    public string BootstrapServers => _kafka.BootstrapServers;

    public IGrainFactory Grains => App.Services.GetRequiredService<IGrainFactory>();

    public IngestionInstruments Ingestion => App.Services.GetRequiredService<IngestionInstruments>();

    public static async Task<LocalSilo> StartAsync(int port, int partitions, string modelStore, string? redis, IDictionary<string, string?>? overrides = null)
    {
        var kafka = new MockKafkaCluster(1);
        try
        {
            const string topic = "mic.clicks";
            kafka.CreateTopic(topic, partitions);
            kafka.CreateTopic(topic + ".dlq", 1);
            var settings = new Dictionary<string, string?>
            {
                ["Urls"] = $"http://127.0.0.1:{port}",
                ["Silo:Clustering"] = "Localhost",
                ["Silo:Storage"] = redis is null ? "Memory" : "Redis",
                ["Silo:Redis"] = redis,
                ["Silo:SiloPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
                ["Silo:GatewayPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
                ["Silo:ServiceId"] = "mic-demo",
                ["Silo:ModelStore"] = modelStore,
                ["Kafka:BootstrapServers"] = kafka.BootstrapServers,
                ["Kafka:Topic"] = topic,
                ["Kafka:DeadLetterTopic"] = topic + ".dlq",
                ["Kafka:GroupId"] = "mic-demo",
                ["Serving:PollInterval"] = "00:00:00.500",
            };
            foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
            {
                settings[key] = value;
            }

            var builder = WebApplication.CreateBuilder();
            builder.Configuration.AddInMemoryCollection(settings);
            builder.AddMicSilo();
            builder.Logging.ClearProviders(); // the console belongs to the live view
            var app = builder.Build();
            app.MapMicApi();
            await app.StartAsync();
            return new LocalSilo(kafka, app, $"http://127.0.0.1:{port}", topic);
        }
        catch
        {
            kafka.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        _kafka.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
