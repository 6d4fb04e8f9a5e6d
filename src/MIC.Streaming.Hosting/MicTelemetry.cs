using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Ingestion;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace MIC.Streaming.Hosting;

/// <summary>OpenTelemetry metrics from every host, scraped by Prometheus at /metrics.</summary>
public static class MicTelemetry
{
    public static IServiceCollection AddMicTelemetry(this IServiceCollection services)
    {
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(IngestionInstruments.MeterName, ServingInstruments.MeterName, "Microsoft.Orleans")
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter());
        return services;
    }
}
