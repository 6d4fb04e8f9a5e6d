using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MIC.Streaming.Hosting;

/// <summary>
/// API keys with scopes (read / write events / admin) for /v1 and the dashboard, and the per-client
/// rate limit of every /v1 endpoint. The limiter runs before authentication, so it partitions on a
/// key only once the key is valid: requests with unknown keys share their address's budget (200
/// guesses with random keys got 200 × 401 and no 429 when any presented key was its own partition).
/// </summary>
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

                await TypedResultsProblem(context.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests", "The request rate limit for this client was exceeded; retry later.", cancellationToken);
            };
            options.AddPolicy(CandidatesPolicy, http =>
            {
                var security = http.RequestServices.GetRequiredService<IOptions<SecurityOptions>>().Value;
                if (security.CandidatesPerSecond == 0)
                {
                    return RateLimitPartition.GetNoLimiter("unlimited");
                }

                // The client is its valid API key (hashed, never kept in clear) or else its address.
                var client = security.AuthenticationEnabled && ScopeOf(http, security) is not null
                    ? "key:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(http.Request.Headers[SecurityOptions.ApiKeyHeader].ToString())))[..16]
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

    /// <summary>Endpoint filter: read scope (any valid key) when keys are configured.</summary>
    public static ValueTask<object?> RequireApiKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next) => Require(ApiScope.Read, context, next);

    /// <summary>An endpoint filter: 401 without a valid key, 403 when the key's scope is below <paramref name="scope"/>.</summary>
    public static Func<EndpointFilterInvocationContext, EndpointFilterDelegate, ValueTask<object?>> RequireScope(ApiScope scope) =>
        (context, next) => Require(scope, context, next);

    private static async ValueTask<object?> Require(ApiScope scope, EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var security = context.HttpContext.RequestServices.GetRequiredService<IOptions<SecurityOptions>>().Value;
        if (!security.AuthenticationEnabled)
        {
            return await next(context);
        }

        var granted = ScopeOf(context.HttpContext, security);
        if (granted is null)
        {
            context.HttpContext.Response.Headers.WWWAuthenticate = "ApiKey header=\"" + SecurityOptions.ApiKeyHeader + "\"";
            return TypedResults.Problem("A valid API key is required in the " + SecurityOptions.ApiKeyHeader + " header.", statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        }

        if (granted < scope)
        {
            return TypedResults.Problem($"This key's scope is {granted.Value.ToString().ToLowerInvariant()}; this endpoint needs {scope.ToString().ToLowerInvariant()}.", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
        }

        return await next(context);
    }

    /// <summary>The scope of the request's key, resolved once per request (the limiter and the filter both ask).</summary>
    private static ApiScope? ScopeOf(HttpContext http, SecurityOptions security)
    {
        if (http.Items.TryGetValue(ScopeItem, out var cached))
        {
            return (ApiScope?)cached;
        }

        var scope = http.Request.Headers.TryGetValue(SecurityOptions.ApiKeyHeader, out var presented) ? security.ScopeOf(presented.ToString()) : null;
        http.Items[ScopeItem] = scope;
        return scope;
    }

    private static readonly object ScopeItem = new();

    internal static bool Matches(string[] keys, string presented)
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
