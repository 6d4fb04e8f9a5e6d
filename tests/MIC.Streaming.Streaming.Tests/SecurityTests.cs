using System.Collections.Concurrent;
using System.Net;
using System.Text;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Hosting;
using Microsoft.Extensions.Logging;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>A silo with API keys and a tight candidates rate limit, every log line captured.</summary>
public sealed class SecuredSiloFixture : IAsyncLifetime
{
    public const string Key = "test-key-0123456789abcdef";
    public const string RateKey = "rate-key-0123456789abcdef";
    public const string ReadKey = "read-key-0123456789abcdef";
    public const string WriteKey = "write-key-0123456789abcdef";
    private TestSilo? _silo;

    public HttpClient Http => _silo!.Http;

    public CapturingLoggerProvider Logs { get; } = new();

    public async Task InitializeAsync() =>
        _silo = await TestSilo.StartAsync("sec.clicks", 2, new Dictionary<string, string?>
        {
            ["Security:ApiKeys:0"] = Key,
            ["Security:ApiKeys:1"] = RateKey,
            ["Security:ReadKeys:0"] = ReadKey,
            ["Security:WriteKeys:0"] = WriteKey,
            ["Security:CandidatesPerSecond"] = "5",
            ["Security:CandidatesBurst"] = "5",
            ["Silo:Dashboard"] = "true",
        }, Logs);

    public async Task DisposeAsync()
    {
        if (_silo is not null)
        {
            await _silo.DisposeAsync();
        }
    }
}

public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Capturing(this);

    public void Dispose()
    {
    }

    private sealed class Capturing(CapturingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue(formatter(state, exception) + " " + exception);
    }
}

[Collection("cluster")]
public sealed class SecurityTests(SecuredSiloFixture fixture) : IClassFixture<SecuredSiloFixture>
{
    private static HttpRequestMessage Get(string url, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (key is not null)
        {
            request.Headers.Add(SecurityOptions.ApiKeyHeader, key);
        }

        return request;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key-0123456789abcdef")]
    public async Task V1_WithoutValidKey_Is401(string? key)
    {
        using var response = await fixture.Http.SendAsync(Get("/v1/users/u1", key));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task HealthAndMetrics_AreOpen()
    {
        Assert.Equal(HttpStatusCode.OK, (await fixture.Http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Http.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Dashboard_WhenSwitchedOn_IsServedBehindTheApiKey()
    {
        using var anonymous = await fixture.Http.SendAsync(Get("/dashboard", null));
        using var authorised = await fixture.Http.SendAsync(Get("/dashboard", SecuredSiloFixture.Key));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, authorised.StatusCode);
        Assert.Contains("text/html", authorised.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Candidates_OverTheRate_Are429()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await fixture.Http.SendAsync(Get("/v1/users/rl/candidates", SecuredSiloFixture.RateKey));
            statuses.Add(response.StatusCode);
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.DoesNotContain(HttpStatusCode.Unauthorized, statuses);
    }

    [Fact]
    public async Task InvalidKeys_AreRateLimitedByAddress_NotOnePartitionPerGuess()
    {
        // Before: the limiter partitioned on whatever key was presented, so 200 random keys got 200 × 401.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 30; i++)
        {
            using var response = await fixture.Http.SendAsync(Get("/v1/users/u1", "guess-" + Guid.NewGuid().ToString("N")));
            statuses.Add(response.StatusCode);
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.Contains(HttpStatusCode.Unauthorized, statuses);
        await Task.Delay(1500); // the address's bucket refills for the other tests
    }

    [Fact]
    public async Task EveryV1Endpoint_IsRateLimited()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await fixture.Http.SendAsync(Get("/v1/users/rl-" + i, SecuredSiloFixture.RateKey));
            statuses.Add(response.StatusCode);
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        await Task.Delay(1500);
    }

    [Fact]
    public async Task Scopes_ReadKeyReads_WriteKeyPosts_OnlyAdminRollsBack()
    {
        static HttpRequestMessage Send(HttpMethod method, string url, string key, byte[]? body = null)
        {
            var request = new HttpRequestMessage(method, url);
            request.Headers.Add(SecurityOptions.ApiKeyHeader, key);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } };
            }

            return request;
        }

        var evt = ClickEventJson.Serialize(new ClickEvent("scope-1", "scope-user", "i1", 1));
        using var readGet = await fixture.Http.SendAsync(Send(HttpMethod.Get, "/v1/users/scope-user", SecuredSiloFixture.ReadKey));
        using var readPost = await fixture.Http.SendAsync(Send(HttpMethod.Post, "/v1/events", SecuredSiloFixture.ReadKey, evt));
        using var readDashboard = await fixture.Http.SendAsync(Send(HttpMethod.Get, "/dashboard", SecuredSiloFixture.ReadKey));
        using var writePost = await fixture.Http.SendAsync(Send(HttpMethod.Post, "/v1/events", SecuredSiloFixture.WriteKey, evt));
        using var writeRollback = await fixture.Http.SendAsync(Send(HttpMethod.Post, "/v1/model/rollback?to=1", SecuredSiloFixture.WriteKey));

        Assert.Equal(HttpStatusCode.OK, readGet.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, readPost.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, readDashboard.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, writePost.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, writeRollback.StatusCode);
        Assert.Equal("application/problem+json", writeRollback.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Metrics_ExposeIngestionCounters_AfterAnEventFlows()
    {
        var post = new HttpRequestMessage(HttpMethod.Post, "/v1/events")
        {
            Content = new ByteArrayContent(ClickEventJson.Serialize(new ClickEvent("m1", "metrics-user", "i1", 1))) { Headers = { ContentType = new("application/json") } },
        };
        post.Headers.Add(SecurityOptions.ApiKeyHeader, SecuredSiloFixture.Key);
        Assert.Equal(HttpStatusCode.Accepted, (await fixture.Http.SendAsync(post)).StatusCode);

        await StreamingCluster.WaitUntilAsync(async () => (await fixture.Http.GetStringAsync("/metrics")).Contains("mic_ingest_applied", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "ingest metrics exported");
        var metrics = await fixture.Http.GetStringAsync("/metrics");
        Assert.Contains("mic_ingest_records", metrics, StringComparison.Ordinal);
        Assert.Contains("mic_ingest_lag", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKeys_NeverAppearInLogs()
    {
        using (await fixture.Http.SendAsync(Get("/v1/users/u2", SecuredSiloFixture.Key)))
        using (await fixture.Http.SendAsync(Get("/v1/users/u2", "another-wrong-key-0123456789")))
        {
        }

        Assert.NotEmpty(fixture.Logs.Lines);
        Assert.DoesNotContain(fixture.Logs.Lines, l => l.Contains(SecuredSiloFixture.Key, StringComparison.Ordinal) || l.Contains("another-wrong-key", StringComparison.Ordinal));
    }
}
