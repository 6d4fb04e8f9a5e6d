using MIC.Streaming.Grains;
using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Ingestion;
using MIC.Streaming.Retrieval.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace MIC.Streaming.Trainer;

/// <summary>What a trainer silo shares with its <see cref="TrainerGrain"/>: options, metrics, where the model store is.</summary>
public sealed class TrainerHost(
    IGrainFactory grains,
    IOptions<KafkaOptions> kafka,
    IOptions<TrainerOptions> options,
    IOptions<ServingOptions> serving,
    ChannelOptions channels,
    TrainerInstruments instruments,
    ILoggerFactory loggers,
    TimeProvider time,
    ILocalSiloDetails silo,
    IHostApplicationLifetime lifetime)
{
    public string SiloName => silo.Name;

    /// <summary>Cancelled when this silo stops (also when a test kills it): the loop must not outlive its silo.</summary>
    public CancellationToken Stopping => lifetime.ApplicationStopping;

    /// <summary>The last status the keep-alive saw (null before the first call answers).</summary>
    public TrainerStatus? LastStatus { get; internal set; }

    public TrainerInstruments Instruments => instruments;

    public StreamingTrainer Create() => new(new StreamingTrainerContext(
        grains, kafka.Value, options.Value, serving.Value.ModelStore, channels, instruments, loggers.CreateLogger<StreamingTrainer>(), time, silo.Name, serving.Value.ShardsFor));
}

/// <summary>
/// On every trainer silo: calls the trainer grain every <see cref="Interval"/>, which keeps it active
/// and, after its silo died, re-activates it here or on another trainer silo.
/// </summary>
public sealed class TrainerKeepAlive(IGrainFactory grains, TrainerHost host, ILogger<TrainerKeepAlive> logger) : BackgroundService
{
    public const string TrainerKey = "default";

    public static TimeSpan Interval { get; } = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                host.LastStatus = await grains.GetGrain<ITrainerGrain>(TrainerKey).GetStatusAsync().WaitAsync(TimeSpan.FromSeconds(30), stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                TrainerLog.KeepAliveFailed(logger, ex.Message);
            }

            try
            {
                await Task.Delay(Interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

/// <summary>Trainer role wiring (Orleans' heterogeneous silos: the grain class exists only where this ran).</summary>
public static class TrainerSetup
{
    public const string Role = "trainer";

    /// <summary>Registers the trainer services on a silo with the trainer role.</summary>
    public static IServiceCollection AddMicTrainer(this IServiceCollection services)
    {
        services.AddSingleton<TrainerInstruments>();
        services.AddSingleton<TrainerHost>();
        services.AddHostedService<TrainerKeepAlive>();
        return services;
    }

    /// <summary>On a silo without the role: removes the trainer grain class, so Orleans never places it here.</summary>
    public static ISiloBuilder WithoutTrainerGrain(this ISiloBuilder silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.PostConfigure<GrainTypeOptions>(o => o.Classes.Remove(typeof(TrainerGrain)));
        return silo;
    }
}
