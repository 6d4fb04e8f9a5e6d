using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;

namespace MIC.Streaming.Client;

/// <summary>Wires the Orleans client to the MIC silos: <c>builder.AddMicClient();</c> then inject <see cref="CandidatesClient"/>.</summary>
public static class MicClientExtensions
{
    /// <summary>
    /// Adds the Orleans client (gateways from the silos' Redis membership table) and
    /// <see cref="CandidatesClient"/>, configured from the "Mic" section. Bad settings fail at
    /// start-up naming the key. The host's start-up waits until a gateway answers, retrying.
    /// </summary>
    public static IHostApplicationBuilder AddMicClient(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Configuration.GetSection(MicClientOptions.SectionName).Get<MicClientOptions>() ?? new MicClientOptions();
        var problems = options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(MicClientOptions.SectionName, typeof(MicClientOptions), problems);
        }

        builder.Services.AddSingleton(Options.Create(options));
        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(options.Redis));
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = options.GatewayListRefreshPeriod);
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = options.ResponseTimeout);
            // Start-up: keep trying until the silos are up (a service may start before them).
            client.UseConnectionRetryFilter(async (exception, cancellationToken) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                return true;
            });
        });
        builder.Services.AddSingleton<CandidatesClient>();
        return builder;
    }
}
