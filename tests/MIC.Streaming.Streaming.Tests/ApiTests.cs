using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>A real silo process composition (web host + Orleans + mock Kafka) serving a trained model over HTTP.</summary>
public sealed class ApiSiloFixture : IAsyncLifetime, IDisposable
{
    private readonly TempDir _store = new();
    private TestSilo? _silo;

    public WebApplication App => _silo!.App;

    public HttpClient Http => _silo!.Http;

    public HttpStatusCode StatusBeforeModel { get; private set; }

    public async Task InitializeAsync()
    {
        _silo = await TestSilo.StartAsync("api.clicks", 4, new Dictionary<string, string?>
        {
            ["Silo:ModelStore"] = _store.Path,
            ["Api:MaxK"] = "60",
            ["Api:DefaultK"] = "20",
        });
        StatusBeforeModel = (await Http.GetAsync("/v1/users/u1/candidates")).StatusCode;
        await TestModel.TrainAndPublishAsync(App.Services.GetRequiredService<IGrainFactory>(), _store.Path);
        await StreamingCluster.WaitUntilAsync(async () => (await Http.GetAsync("/health/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "model loaded");
    }

    public async Task DisposeAsync()
    {
        if (_silo is not null)
        {
            await _silo.DisposeAsync();
        }

        Dispose();
    }

    public void Dispose() => _store.Dispose();
}

[Collection("cluster")]
public sealed class ApiTests(ApiSiloFixture fixture) : IClassFixture<ApiSiloFixture>
{
    private HttpClient Http => fixture.Http;

    [Fact]
    public void Candidates_BeforeAnyModel_Are503()
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, fixture.StatusBeforeModel);
    }

    [Fact]
    public async Task Candidates_UserWithLiveHistory_ComeFromAllThreeChannelsWithProvenance()
    {
        // Given a user whose clicks arrived through POST /v1/events (→ Kafka → user grain)
        var dataset = TestModel.Dataset;
        var user = "live-" + Guid.NewGuid().ToString("N")[..6];
        var items = dataset.Sequences.Sequence(3).ToArray();
        for (var i = 0; i < items.Length; i++)
        {
            var body = ClickEventJson.Serialize(new ClickEvent($"{user}:{i}", user, dataset.Items.GetRaw(items[i]), 1_700_000_000 + i));
            var post = await Http.PostAsync("/v1/events", new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } });
            Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        }

        await StreamingCluster.WaitUntilAsync(
            async () => (await Http.GetFromJsonAsync<JsonElement>($"/v1/users/{user}")).GetProperty("totalEvents").GetInt64() == items.Length,
            TimeSpan.FromSeconds(30), "events visible in the user grain");

        // When candidates are requested
        var json = await Http.GetFromJsonAsync<JsonElement>($"/v1/users/{user}/candidates?k=50&channels=u2i,u2u2i,u2i2i");

        // Then 50 unseen items come back, and every channel contributed
        Assert.False(json.GetProperty("coldStart").GetBoolean());
        Assert.True(json.GetProperty("modelVersion").GetInt64() >= 1);
        var served = json.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(50, served.Count);
        var channels = served.SelectMany(s => s.GetProperty("channels").EnumerateArray().Select(c => c.GetString())).ToHashSet();
        Assert.Superset(new HashSet<string?> { "u2i", "u2u2i", "u2i2i" }, channels);
        var seen = items.Select(i => dataset.Items.GetRaw(i)).ToHashSet();
        Assert.DoesNotContain(served, s => seen.Contains(s.GetProperty("itemId").GetString()!));
        Assert.Equal(served.Count, served.Select(s => s.GetProperty("itemId").GetString()).Distinct().Count());
    }

    [Fact]
    public async Task Candidates_UnknownUser_GetPopularityColdStart()
    {
        var json = await Http.GetFromJsonAsync<JsonElement>("/v1/users/nobody-" + Guid.NewGuid().ToString("N") + "/candidates?k=10");

        Assert.True(json.GetProperty("coldStart").GetBoolean());
        var served = json.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(10, served.Count);
        Assert.All(served, s => Assert.Equal("popular", s.GetProperty("channels")[0].GetString()));
    }

    [Fact]
    public async Task Candidates_KAboveMaximum_IsClamped()
    {
        var json = await Http.GetFromJsonAsync<JsonElement>("/v1/users/u1/candidates?k=100000");

        Assert.Equal(60, json.GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("/v1/users/u1/candidates?k=0")]
    [InlineData("/v1/users/u1/candidates?k=-3")]
    [InlineData("/v1/users/u1/candidates?k=abc")]
    [InlineData("/v1/users/u1/candidates?k=99999999999999999999")]
    [InlineData("/v1/users/u1/candidates?channels=u2x")]
    [InlineData("/v1/users/u1/candidates?channels=,,")]
    [InlineData("/v1/users/%20/candidates")]
    [InlineData("/v1/users/%01bad/candidates")]
    [InlineData("/v1/users/u1/candidates?k=5%00")]   // int parsing accepts trailing NULs
    public async Task Candidates_BadInput_Is400ProblemDetails(string url)
    {
        var response = await Http.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Candidates_NulInPath_Is400()
    {
        // Kestrel itself refuses a %00 in the path (before the pipeline: no problem+json body possible)
        using var response = await Http.GetAsync("/v1/users/nul%00user/candidates");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Candidates_UserIdTooLong_Is400()
    {
        var response = await Http.GetAsync("/v1/users/" + new string('x', 300) + "/candidates");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("{\"eventId\":\"e\",\"userId\":")]
    [InlineData("{\"eventId\":\"e\",\"userId\":\"u\",\"timestamp\":1}")]
    [InlineData("{\"eventId\":\"e\",\"userId\":-1,\"itemId\":\"i\",\"timestamp\":1}")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"eventId\":\"e\",\"userId\":\"u\",\"itemId\":\"i\",\"timestamp\":1}xyz")]
    [InlineData("{\"eventId\":\"e\",\"userId\":\"u\",\"itemId\":\"i\",\"timestamp\":1}{\"eventId\":\"f\",\"userId\":\"u\",\"itemId\":\"i\",\"timestamp\":2}")]
    [InlineData("{\"eventId\":\"e\",\"userId\":\"nul\\u0000user\",\"itemId\":\"i\",\"timestamp\":1}")]
    public async Task PostEvent_Malformed_Is400WithReason(string body)
    {
        var response = await Http.PostAsync("/v1/events", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("reason").GetString()));
    }

    [Theory]
    [InlineData("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")]
    [InlineData("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"eventId\":")]
    public async Task PostEvent_MalformedFraming_Is4xxNot500(string request)
    {
        // Raw bytes: HttpClient cannot send a bad chunk or a body shorter than its Content-Length.
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(Http.BaseAddress!.Host, Http.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request)); // the short body then stalls: Kestrel's body timeout (~5 s)
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var head = new List<string>();
        for (var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)); !string.IsNullOrEmpty(line); line = await reader.ReadLineAsync())
        {
            head.Add(line);
        }

        // Before: 500 (Kestrel's BadHttpRequestException through the exception handler)
        Assert.NotEmpty(head);
        var status = int.Parse(head[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(status is 400 or 408, $"got '{head[0]}'");
        Assert.Contains("Content-Type: application/problem+json", head);
    }

    [Fact]
    public async Task PostEvent_IdWithSlash_IsReadableAtItsLocation()
    {
        var user = "slash/" + Guid.NewGuid().ToString("N")[..6];
        var body = ClickEventJson.Serialize(new ClickEvent(user + ":0", user, "i1", 1_700_000_000));
        using var post = await Http.PostAsync("/v1/events", new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } });
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        var location = post.Headers.Location!.OriginalString;
        Assert.Contains("%2F", location, StringComparison.Ordinal);

        // Before: GET slash%2F… read another (empty) user
        await StreamingCluster.WaitUntilAsync(
            async () => (await Http.GetFromJsonAsync<JsonElement>(location)).GetProperty("totalEvents").GetInt64() == 1,
            TimeSpan.FromSeconds(30), "the event at its Location");
        Assert.Equal(user, (await Http.GetFromJsonAsync<JsonElement>(location)).GetProperty("userId").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync(location + "/candidates?k=5")).StatusCode);
    }

    [Fact]
    public async Task GetUnknownUsers_LeaveNoActivationsBehind()
    {
        var management = fixture.App.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        async Task<int> UserActivations() => (await management.GetSimpleGrainStatistics())
            .Where(s => s.GrainType.Contains("UserGrain", StringComparison.Ordinal)).Sum(s => s.ActivationCount);
        var before = await UserActivations();

        for (var i = 0; i < 100; i++)
        {
            using var response = await Http.GetAsync("/v1/users/random-" + Guid.NewGuid().ToString("N"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Before: one lasting activation per random id (20,000 ids → +51 MiB) until the idle collector ran
        await StreamingCluster.WaitUntilAsync(async () => await UserActivations() <= before + 5, TimeSpan.FromSeconds(10), "random-id activations gone");
    }

    [Fact]
    public async Task PostEvent_OverSizeLimit_Is413()
    {
        var body = "{\"eventId\":\"e\",\"pad\":\"" + new string('x', ClickEvent.MaxPayloadBytes) + "\"}";

        var response = await Http.PostAsync("/v1/events", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task UnknownRoute_And_WrongMethod_Are4xx()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("/v1/nothing")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await Http.DeleteAsync("/v1/events")).StatusCode);
    }

    [Fact]
    public async Task OpenApi_DescribesTheCandidatesEndpoint()
    {
        var doc = await Http.GetStringAsync("/openapi/v1.json");

        Assert.Contains("/v1/users/{userId}/candidates", doc, StringComparison.Ordinal);
        Assert.Contains("/v1/events", doc, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Model_ReportsServedVersion()
    {
        var json = await Http.GetFromJsonAsync<JsonElement>("/v1/model");

        Assert.True(json.GetProperty("servingVersion").GetInt64() >= 1);
        Assert.True(json.GetProperty("registry").GetArrayLength() >= 1);
    }
}
