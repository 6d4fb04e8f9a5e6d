using MIC.Streaming.Grains;
using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Grains.Serving.Sharding;
using MIC.Streaming.Ingestion;
using MIC.Streaming.Trainer;
using MIC.Streaming.Retrieval.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Persistence;
using Orleans.Serialization;
using Orleans.Storage;
using StackExchange.Redis;

namespace MIC.Streaming.Hosting;

/// <summary>
/// Composes a MIC silo. The silo executable, <c>mic demo</c> and the test cluster all use these,
/// so what is tested is what runs.
/// </summary>
public static class MicSilo
{
    /// <summary>Orleans' ClusterMembershipOptions, bound as they are named (ProbeTimeout, NumMissedProbesLimit, …).</summary>
    public const string MembershipSection = "Silo:Membership";

    /// <summary>
    /// A web application hosting the silo, the Kafka consumer, serving and the HTTP API. Fails at
    /// start-up, naming the key, on any bad setting.
    /// </summary>
    public static WebApplicationBuilder AddMicSilo(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var silo = OptionsValidation.ReadValidated<SiloOptions>(configuration, SiloOptions.SectionName, o => o.Validate());
        var telemetry = OptionsValidation.ReadValidated<TelemetryOptions>(configuration, TelemetryOptions.SectionName, o => o.Validate());
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.UseOrleans(siloBuilder =>
        {
            if (silo.Clustering.Equals("Redis", StringComparison.OrdinalIgnoreCase))
            {
                siloBuilder.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(silo.Redis!));
                siloBuilder.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = silo.ClusterId;
                    o.ServiceId = silo.ServiceId;
                });
                siloBuilder.ConfigureEndpoints(silo.SiloPort, silo.GatewayPort, listenOnAnyHostAddress: true);
                // Failure detection (Orleans' ClusterMembershipOptions, e.g. Silo__Membership__ProbeTimeout):
                // how fast a killed silo is declared dead and its grains re-activated elsewhere.
                siloBuilder.Services.Configure<ClusterMembershipOptions>(configuration.GetSection(MembershipSection));
                if (silo.KubernetesHosting)
                {
                    siloBuilder.UseKubernetesHosting();
                }
            }
            else
            {
                siloBuilder.UseLocalhostClustering(silo.SiloPort, silo.GatewayPort, serviceId: silo.ServiceId, clusterId: silo.ClusterId);
            }

            ConfigureSilo(siloBuilder, configuration, silo);
            if (silo.Dashboard)
            {
                siloBuilder.AddDashboard();
            }

            if (!string.IsNullOrEmpty(telemetry.OtlpEndpoint))
            {
                siloBuilder.AddActivityPropagation(); // grain calls join the HTTP request's trace
            }
        });
        builder.Services.AddSingleton(silo);
        ConfigureShutdown(builder.Services, configuration[ShutdownTimeoutKey]);
        builder.Services.AddProblemDetails();
        // A malformed request body (bad chunked framing, a body shorter than its Content-Length) or a
        // body that times out is the client's error: Kestrel's own 400/408, not a 500.
        builder.Services.Configure<ExceptionHandlerOptions>(o => o.StatusCodeSelector = ex => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError);
        builder.Services.AddOpenApi();
        builder.Services.AddValidatedOptions<ApiOptions>(configuration, ApiOptions.SectionName, o => o.Validate());
        builder.Services.AddValidatedOptions<SecurityOptions>(configuration, SecurityOptions.SectionName, o => o.Validate());
        builder.Services.AddMicApiSecurity();
        builder.Services.AddMicTelemetry(telemetry);
        builder.Services.AddSingleton<ClickPublisher>();
        builder.Services.AddHealthChecks()
            .AddCheck<ServingReadyCheck>("serving", tags: ["ready"]);
        return builder;
    }

    /// <summary>Grain storage, serving and ingestion on one silo (also used by the test cluster).</summary>
    public static void ConfigureSilo(ISiloBuilder siloBuilder, IConfiguration configuration, SiloOptions silo)
    {
        ArgumentNullException.ThrowIfNull(siloBuilder);
        ArgumentNullException.ThrowIfNull(silo);
        siloBuilder.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = silo.ResponseTimeout);
        foreach (var name in new[] { StorageNames.Users, StorageNames.Items, StorageNames.Registry })
        {
            if (silo.Storage.Equals("Redis", StringComparison.OrdinalIgnoreCase))
            {
                siloBuilder.AddRedisGrainStorage(name, options => options.Configure<Serializer>((o, serializer) =>
                {
                    o.ConfigurationOptions = ConfigurationOptions.Parse(silo.Redis!);
                    // Orleans' binary format: a user's 200-event sequence is ~3x smaller and much
                    // cheaper to write than the default JSON with type names.
                    o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
                }));
            }
            else
            {
                siloBuilder.AddMemoryGrainStorage(name);
            }
        }

        var services = siloBuilder.Services;
        services.TryAddTimeProvider();
        services.AddValidatedOptions<SequenceOptions>(configuration, SequenceOptions.SectionName, o => o.Validate());
        services.AddValidatedOptions<ServingOptions>(configuration, ServingOptions.SectionName, o => o.Validate());
        services.PostConfigure<ServingOptions>(o => o.ModelStore = silo.ModelStore);
        services.AddValidatedOptions<KafkaOptions>(configuration, KafkaOptions.SectionName, o => o.Validate());
        services.AddValidatedOptions<ChannelOptions>(configuration, "Channels", ValidateChannels);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<ChannelOptions>>().Value);
        services.AddSingleton<ServingInstruments>();
        services.AddSingleton<IShardSetFactory, GrainShardSetFactory>();
        services.AddSingleton<ServingModel>();
        siloBuilder.AddPlacementDirector<ShardSpreadPlacement, ShardSpreadPlacementDirector>();
        services.AddSingleton<ModelVersionWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<ModelVersionWatcher>());
        services.AddSingleton<IngestionInstruments>();
        if (silo.HasRole("serving"))
        {
            services.AddHostedService<ClickIngestionService>();
        }
        else
        {
            // Index shards are placed only on serving silos.
            services.PostConfigure<Orleans.Configuration.GrainTypeOptions>(o => o.Classes.Remove(typeof(IndexShardGrain)));
        }

        if (silo.HasRole(TrainerSetup.Role))
        {
            services.AddValidatedOptions<TrainerOptions>(configuration, TrainerOptions.SectionName, o => o.Validate());
            services.AddMicTrainer();
        }
        else
        {
            siloBuilder.WithoutTrainerGrain(); // heterogeneous silos: the trainer is never placed here
        }
    }

    /// <summary>The configuration key of the host's shutdown timeout (environment <c>HostOptions__ShutdownTimeout</c>, set by the chart).</summary>
    public const string ShutdownTimeoutKey = "HostOptions:ShutdownTimeout";

    /// <summary>
    /// The generic host reads its shutdown timeout only from <c>shutdownTimeoutSeconds</c> of the host
    /// configuration, so <c>HostOptions__ShutdownTimeout</c> (what the chart sets to the pod's grace
    /// period minus 10 s) was read by nothing and the silo kept 30 s to flush grains and commit. Bound
    /// here, validated at start-up; a bad value stops the silo naming the key.
    /// </summary>
    private static void ConfigureShutdown(IServiceCollection services, string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return;
        }

        if (!TimeSpan.TryParse(raw, System.Globalization.CultureInfo.InvariantCulture, out var timeout) || timeout <= TimeSpan.Zero || timeout > TimeSpan.FromHours(1))
        {
            throw new OptionsValidationException(ShutdownTimeoutKey, typeof(HostOptions), [$"{ShutdownTimeoutKey} '{raw}' must be a time span above 0 and at most 1 hour, e.g. 00:00:50."]);
        }

        services.Configure<HostOptions>(o => o.ShutdownTimeout = timeout);
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }

    private static IEnumerable<string> ValidateChannels(ChannelOptions options)
    {
        try
        {
            options.Validate();
            return [];
        }
        catch (ArgumentException ex)
        {
            return [$"Channels: {ex.Message} (keys Channels:SimilarUsers, ItemsPerSimilarUser, RecentHistoryItems, SimilarItemsPerHistoryItem, WeightU2I, WeightU2U2I, WeightU2I2I)"];
        }
    }
}
