using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>Bad configuration stops the silo at start-up with a message naming the key to fix.</summary>
[Collection("cluster")]
public sealed class ConfigurationTests
{
    private static Dictionary<string, string?> Valid() => new()
    {
        ["Silo:Clustering"] = "Localhost",
        ["Silo:Storage"] = "Memory",
        ["Silo:SiloPort"] = RedisServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Silo:GatewayPort"] = RedisServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Kafka:BootstrapServers"] = "127.0.0.1:9",
        ["Kafka:ConsumerEnabled"] = "false",
        ["Urls"] = $"http://127.0.0.1:{RedisServer.FreePort()}",
    };

    [Fact]
    public void AddMicSilo_ShutdownTimeoutFromEnvironment_IsTheHostsEffectiveTimeout()
    {
        // Given the variable the chart sets (grace period − 10 s), as the silo's environment
        Environment.SetEnvironmentVariable("HostOptions__ShutdownTimeout", "00:00:47");
        try
        {
            var builder = WebApplication.CreateBuilder();
            builder.Configuration.AddInMemoryCollection(Valid());

            // When the silo host is composed and built
            builder.AddMicSilo();
            using var app = builder.Build();

            // Then the host that will stop the silo uses it (it stayed at the 30 s default before)
            Assert.Equal(TimeSpan.FromSeconds(47), app.Services.GetRequiredService<IOptions<Microsoft.Extensions.Hosting.HostOptions>>().Value.ShutdownTimeout);
        }
        finally
        {
            Environment.SetEnvironmentVariable("HostOptions__ShutdownTimeout", null);
        }
    }

    [Fact]
    public void AddMicSilo_ServingIndexVariablesFromTheChart_AreTheEffectiveServingOptions()
    {
        // Given the variables the chart's ConfigMap sets from serving.index.*
        var variables = new Dictionary<string, string>
        {
            ["Serving__Mode"] = "Sharded",
            ["Serving__Shards"] = "12",
            ["Serving__ShardedAbove"] = "3000000",
            ["Serving__ShardReplicas"] = "2",
            ["Serving__ShardBudget"] = "00:00:00.250",
        };
        foreach (var (k, v) in variables)
        {
            Environment.SetEnvironmentVariable(k, v);
        }

        try
        {
            var builder = WebApplication.CreateBuilder();
            builder.Configuration.AddInMemoryCollection(Valid());

            // When the silo host is composed and built
            builder.AddMicSilo();
            using var app = builder.Build();

            // Then the serving options the silo runs with are those values (and the trainer writes 12 shards)
            var serving = app.Services.GetRequiredService<IOptions<ServingOptions>>().Value;
            Assert.Equal(ServingMode.Sharded, serving.Mode);
            Assert.Equal(12, serving.Shards);
            Assert.Equal(3_000_000, serving.ShardedAbove);
            Assert.Equal(2, serving.ShardReplicas);
            Assert.Equal(TimeSpan.FromMilliseconds(250), serving.ShardBudget);
            Assert.Equal(12, serving.ShardsFor(1000));
            Assert.Equal(0, new ServingOptions { Mode = ServingMode.Auto, ShardedAbove = serving.ShardedAbove }.ShardsFor(1000));
            Assert.Equal(8, new ServingOptions { Mode = ServingMode.Auto }.ShardsFor(6_000_000));
        }
        finally
        {
            foreach (var k in variables.Keys)
            {
                Environment.SetEnvironmentVariable(k, null);
            }
        }
    }

    [Fact]
    public async Task Start_UnknownServingMode_FailsNamingTheKey()
    {
        var settings = Valid();
        settings["Serving:Mode"] = "Shardd";
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddMicSilo();
        await using var app = builder.Build();
        app.MapMicApi();

        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => app.StartAsync());
        Assert.Contains("Serving:Mode", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SiloAppsettings_DoNotOverrideAspNetCoreUrls()
    {
        // Given the silo's own appsettings.json (as the image runs it) and the chart's ASPNETCORE_URLS
        // (httpPort): an "Urls" key in appsettings.json won over the variable, so changing httpPort
        // moved the probes but not the listener.
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "MIC.Streaming.sln")))
        {
            root = root.Parent ?? throw new InvalidOperationException("repository root not found");
        }

        var silo = Path.Combine(root.FullName, "src", "MIC.Streaming.Silo");
        Environment.SetEnvironmentVariable("ASPNETCORE_URLS", "http://+:9191");
        try
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = silo });

            // Then the effective listen address is the variable's
            Assert.Equal("http://+:9191", builder.Configuration["urls"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("ASPNETCORE_URLS", null);
        }
    }

    [Fact]
    public void SecurityOptions_KeyInTwoScopes_FailsNamingTheSection()
    {
        var builder = WebApplication.CreateBuilder();
        var settings = Valid();
        settings["Security:ApiKeys:0"] = "same-key-0123456789abcdef";
        settings["Security:ReadKeys:0"] = "same-key-0123456789abcdef";
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddMicSilo();
        using var app = builder.Build();

        var error = Assert.Throws<OptionsValidationException>(() => app.Services.GetRequiredService<IOptions<SecurityOptions>>().Value);

        Assert.Contains("appears twice", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Silo:Storage", "Postgres", "Silo:Storage")]
    [InlineData("Silo:Clustering", "Redis", "Silo:Redis")]
    [InlineData("Silo:GatewayPort", "70000", "Silo:GatewayPort")]
    [InlineData("Silo:KubernetesHosting", "true", "Silo:KubernetesHosting")]
    [InlineData("Telemetry:OtlpEndpoint", "collector:4317", "Telemetry:OtlpEndpoint")]
    [InlineData("HostOptions:ShutdownTimeout", "soon", "HostOptions:ShutdownTimeout")]
    [InlineData("HostOptions:ShutdownTimeout", "-00:00:05", "HostOptions:ShutdownTimeout")]
    public void AddMicSilo_BadSiloSetting_FailsNamingTheKey(string key, string value, string named)
    {
        var builder = WebApplication.CreateBuilder();
        var settings = Valid();
        settings[key] = value;
        builder.Configuration.AddInMemoryCollection(settings);

        var error = Assert.Throws<OptionsValidationException>(() => builder.AddMicSilo());

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Kafka:MaxBatch", "0", "Kafka:MaxBatch")]
    [InlineData("Kafka:BootstrapServers", "no-port", "Kafka:BootstrapServers")]
    [InlineData("Kafka:DeadLetterTopic", "mic.clicks", "Kafka:DeadLetterTopic")]
    [InlineData("Api:MaxK", "0", "Api:MaxK")]
    [InlineData("Channels:WeightU2I", "-1", "Channels")]
    [InlineData("Sequences:MaxUserSequence", "0", "Sequences:MaxUserSequence")]
    [InlineData("Kafka:Client:enable.auto.commit", "true", "Kafka:Client:enable.auto.commit")]
    [InlineData("Security:ApiKeys:0", "short", "Security:ApiKeys")]
    [InlineData("Serving:Shards", "0", "Serving:Shards")]
    [InlineData("Serving:ShardReplicas", "40", "Serving:ShardReplicas")]
    [InlineData("Serving:ShardBudget", "00:01:00", "Serving:ShardBudget")]
    public async Task Start_BadSetting_FailsNamingTheKey(string key, string value, string named)
    {
        var settings = Valid();
        settings[key] = value;

        Assert.Contains(named, await StartFailure(settings), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Trainer:IndexMaxBytesPerVector", "10", "Trainer:IndexMaxBytesPerVector must be 0 (IVF-Flat) or at least 16 (ivf-pq8)")]
    [InlineData("Trainer:IndexRecallFloor", "1.5", "Trainer:IndexRecallFloor")]
    [InlineData("Trainer:UserIndexWindow", "-01:00:00", "Trainer:UserIndexWindow")]
    [InlineData("Trainer:MaxUsers", "50", "Trainer:MaxUsers")]
    public async Task Start_TrainerRole_BadIndexBudget_FailsNamingTheKey(string key, string value, string named)
    {
        var settings = Valid();
        settings["Silo:Roles"] = "serving,trainer";
        settings[key] = value;

        Assert.Contains(named, await StartFailure(settings), StringComparison.Ordinal);
    }

    /// <summary>Composes and starts the silo host with <paramref name="settings"/>; returns the start-up validation message.</summary>
    private static async Task<string> StartFailure(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddMicSilo();
        await using var app = builder.Build();
        app.MapMicApi();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        return error.Message;
    }

    [Fact]
    public void TrainerIndexOptions_CarryTheBudgetIntoEveryPublishedVersion()
    {
        var options = new MIC.Streaming.Trainer.TrainerOptions { IndexMaxBytesPerVector = 200, IndexRecallFloor = 0.9 };

        Assert.Empty(options.Validate());
        Assert.Equal(200, options.IndexOptions.MaxBytesPerVector);
        Assert.Equal(0.9, options.IndexOptions.RecallFloor);
        Assert.EndsWith(",SQ8", MIC.Streaming.Faiss.IndexPlanner.SpecFor(100_000, options.IndexOptions, options.Dimension), StringComparison.Ordinal);
    }
}
