using MIC.Streaming.Grains.Serving;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MIC.Streaming.Hosting;

/// <summary>Ready when this silo serves a model version (before that, candidates answer 503).</summary>
public sealed class ServingReadyCheck(ServingModel serving) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(serving.IsReady
            ? HealthCheckResult.Healthy($"serving model version {serving.CurrentVersion}")
            : HealthCheckResult.Unhealthy("no model version loaded yet"));
}
