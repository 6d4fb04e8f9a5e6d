using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Ingestion;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace MIC.Streaming.Hosting;

/// <summary>Section "Telemetry": where traces go (metrics are always scraped at /metrics).</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>OTLP endpoint (e.g. http://otel-collector:4317) for traces; empty = no tracing.</summary>
    public string? OtlpEndpoint { get; set; }

    public IEnumerable<string> Validate()
    {
        if (!string.IsNullOrEmpty(OtlpEndpoint) && !(Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            yield return $"{SectionName}:{nameof(OtlpEndpoint)} must be an absolute http(s) URI (got '{OtlpEndpoint}').";
        }
    }
}

/// <summary>OpenTelemetry from every host: metrics scraped by Prometheus at /metrics, traces over OTLP when configured.</summary>
public static class MicTelemetry
{
    public static IServiceCollection AddMicTelemetry(this IServiceCollection services, TelemetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var telemetry = services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(IngestionInstruments.MeterName, ServingInstruments.MeterName, MIC.Streaming.Trainer.TrainerInstruments.MeterName, "Microsoft.Orleans")
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter());
        if (!string.IsNullOrEmpty(options.OtlpEndpoint))
        {
            // HTTP request → retrieval grain → user grain, across silos (Orleans propagates the context).
            telemetry.WithTracing(tracing => tracing
                .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                .AddAspNetCoreInstrumentation()
                .AddOtlpExporter(o => o.Endpoint = new Uri(options.OtlpEndpoint)));
        }

        return services;
    }
}
