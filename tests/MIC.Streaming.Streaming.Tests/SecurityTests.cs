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
    private TestSilo? _silo;

    public HttpClient Http => _silo!.Http;

    public CapturingLoggerProvider Logs { get; } = new();

    public async Task InitializeAsync() =>
        _silo = await TestSilo.StartAsync("sec.clicks", 2, new Dictionary<string, string?>
        {
            ["Security:ApiKeys:0"] = Key,
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
            using var response = await fixture.Http.SendAsync(Get("/v1/users/rl/candidates", SecuredSiloFixture.Key));
            statuses.Add(response.StatusCode);
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.DoesNotContain(HttpStatusCode.Unauthorized, statuses);
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
