using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MIC.Streaming.Hosting;

/// <summary>API-key authentication for /v1 and the candidates rate limit.</summary>
public static class ApiSecurity
{
    public const string CandidatesPolicy = "candidates";

    public static IServiceCollection AddMicApiSecurity(this IServiceCollection services)
    {
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (context, cancellationToken) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                await TypedResultsProblem(context.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests", "The candidates rate limit for this client was exceeded; retry later.", cancellationToken);
            };
            options.AddPolicy(CandidatesPolicy, http =>
            {
                var security = http.RequestServices.GetRequiredService<IOptions<SecurityOptions>>().Value;
                if (security.CandidatesPerSecond == 0)
                {
                    return RateLimitPartition.GetNoLimiter("unlimited");
                }

                // The client is its API key (hashed, never kept in clear) or, without keys, its address.
                var client = http.Request.Headers.TryGetValue(SecurityOptions.ApiKeyHeader, out var key) && security.AuthenticationEnabled
                    ? "key:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString())))[..16]
                    : "ip:" + http.Connection.RemoteIpAddress;
                return RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = security.CandidatesBurst,
                    TokensPerPeriod = Math.Max(1, security.CandidatesPerSecond / 10),
                    ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
        });
        return services;
    }

    /// <summary>Endpoint filter: 401 unless a configured API key is presented (when keys are configured).</summary>
    public static async ValueTask<object?> RequireApiKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var security = context.HttpContext.RequestServices.GetRequiredService<IOptions<SecurityOptions>>().Value;
        if (!security.AuthenticationEnabled)
        {
            return await next(context);
        }

        if (!context.HttpContext.Request.Headers.TryGetValue(SecurityOptions.ApiKeyHeader, out var presented) || !Matches(security.ApiKeys, presented.ToString()))
        {
            context.HttpContext.Response.Headers.WWWAuthenticate = "ApiKey header=\"" + SecurityOptions.ApiKeyHeader + "\"";
            return TypedResults.Problem("A valid API key is required in the " + SecurityOptions.ApiKeyHeader + " header.", statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        }

        return await next(context);
    }

    private static bool Matches(string[] keys, string presented)
    {
        var p = Encoding.UTF8.GetBytes(presented);
        var match = false;
        foreach (var key in keys)
        {
            match |= CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), p);
        }

        return match;
    }

    private static Task TypedResultsProblem(HttpContext http, int status, string title, string detail, CancellationToken cancellationToken) =>
        TypedResults.Problem(detail, statusCode: status, title: title).ExecuteAsync(http);
}
