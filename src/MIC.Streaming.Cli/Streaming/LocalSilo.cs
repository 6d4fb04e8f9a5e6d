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
    private readonly bool _ownsKafka;

    private LocalSilo(MockKafkaCluster kafka, bool ownsKafka, WebApplication app, string baseUrl, string topic)
    {
        _kafka = kafka;
        _ownsKafka = ownsKafka;
        App = app;
        BaseUrl = baseUrl;
        TopicName = topic;
    }

    public WebApplication App { get; }

    public string BaseUrl { get; }

    public string TopicName { get; }

    public string BootstrapServers => _kafka.BootstrapServers;

    public IGrainFactory Grains => App.Services.GetRequiredService<IGrainFactory>();

    public IngestionInstruments Ingestion => App.Services.GetRequiredService<IngestionInstruments>();

    public const string Topic = "mic.clicks";

    /// <summary>Starts a mock Kafka cluster (owned) with the click topics, then the silo.</summary>
    public static async Task<LocalSilo> StartAsync(int port, int partitions, string modelStore, string? redis, IDictionary<string, string?>? overrides = null)
    {
        var kafka = CreateKafka(partitions);
        try
        {
            return await StartAsync(kafka, ownsKafka: true, port, modelStore, redis, overrides);
        }
        catch
        {
            kafka.Dispose();
            throw;
        }
    }

    /// <summary>A mock Kafka cluster with the click topic and its dead-letter topic.</summary>
    public static MockKafkaCluster CreateKafka(int partitions)
    {
        var kafka = new MockKafkaCluster(1);
        kafka.CreateTopic(Topic, partitions);
        kafka.CreateTopic(Topic + ".dlq", 1);
        return kafka;
    }

    /// <summary>Starts a silo on an existing mock cluster (created by <see cref="CreateKafka"/>).</summary>
    public static async Task<LocalSilo> StartAsync(MockKafkaCluster kafka, bool ownsKafka, int port, string modelStore, string? redis, IDictionary<string, string?>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        var builder = CreateBuilder(kafka.BootstrapServers, port, modelStore, redis, overrides);
        builder.AddMicSilo();
        builder.Logging.ClearProviders(); // the console belongs to the live view
        var app = builder.Build();
        app.MapMicApi();
        await app.StartAsync();
        return new LocalSilo(kafka, ownsKafka, app, $"http://127.0.0.1:{port}", Topic);
    }

    /// <summary>
    /// Reads and validates the silo's whole configuration — the environment (e.g.
    /// <c>Trainer__KeepVersions</c>) under <paramref name="overrides"/> — without starting anything, so
    /// a bad key fails before a command trains for a minute, naming the key. Throws what the silo's
    /// start-up would: <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>, or the
    /// binder's <see cref="InvalidOperationException"/> for a value of the wrong type.
    /// </summary>
    public static void CheckConfiguration(string modelStore, string? redis, IDictionary<string, string?>? overrides = null)
    {
        var builder = CreateBuilder("127.0.0.1:9092", port: 0, modelStore, redis, overrides); // no broker is contacted
        builder.AddMicSilo();
        builder.Logging.ClearProviders();
        using var app = builder.Build();
        app.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
    }

    private static WebApplicationBuilder CreateBuilder(string bootstrapServers, int port, string modelStore, string? redis, IDictionary<string, string?>? overrides)
    {
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
            ["Kafka:BootstrapServers"] = bootstrapServers,
            ["Kafka:Topic"] = Topic,
            ["Kafka:DeadLetterTopic"] = Topic + ".dlq",
            ["Kafka:GroupId"] = "mic-demo",
            ["Serving:PollInterval"] = "00:00:00.500",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        if (_ownsKafka)
        {
            _kafka.Dispose();
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
