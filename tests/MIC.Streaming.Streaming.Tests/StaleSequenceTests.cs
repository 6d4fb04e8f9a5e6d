using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Grains;
using Microsoft.Extensions.DependencyInjection;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>
/// A query whose user grain cannot answer (its silo was just killed and is not yet declared dead:
/// seconds under kill -9) is served from the user's stored sequence, not failed. Found by
/// scripts/chaos.sh: every query for the killed silo's users failed until Orleans declared it dead.
/// </summary>
[Collection("cluster")]
public sealed class StaleSequenceTests
{
    [Fact]
    public async Task Candidates_UserGrainUnreachable_ServedFromStoredSequence()
    {
        // Given a silo serving a model, and a user whose clicks were ingested and flushed
        using var store = new TempDir();
        var down = new UnreachableUserGrains();
        await using var silo = await TestSilo.StartAsync("stale.clicks", 2, new Dictionary<string, string?>
        {
            ["Silo:ModelStore"] = store.Path,
            ["Serving:LiveSequenceTimeout"] = "00:00:00.300",
        }, services: s => s.AddSingleton<IIncomingGrainCallFilter>(down));
        await TestModel.TrainAndPublishAsync(silo.App.Services.GetRequiredService<IGrainFactory>(), store.Path);
        await StreamingCluster.WaitUntilAsync(async () => (await silo.Http.GetAsync("/health/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "model loaded");
        var dataset = TestModel.Dataset;
        var items = dataset.Sequences.Sequence(3).ToArray();
        const string user = "stale-user";
        for (var i = 0; i < items.Length; i++)
        {
            var body = ClickEventJson.Serialize(new ClickEvent($"{user}:{i}", user, dataset.Items.GetRaw(items[i]), 1_700_000_000 + i));
            using var post = await silo.Http.PostAsync("/v1/events", new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } });
            Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        }

        await StreamingCluster.WaitUntilAsync(
            async () => (await silo.Http.GetFromJsonAsync<JsonElement>($"/v1/users/{user}")).GetProperty("totalEvents").GetInt64() == items.Length,
            TimeSpan.FromSeconds(30), "events applied");
        await Task.Delay(1000); // the consumer flushes the grain (commit interval 200 ms)

        var live = await silo.Http.GetFromJsonAsync<JsonElement>($"/v1/users/{user}/candidates?k=20");

        // When the user's grain stops answering (its silo "died")
        down.Unreachable = true;
        using var response = await silo.Http.GetAsync($"/v1/users/{user}/candidates?k=20");

        // Then candidates still come, computed from the stored sequence, not the cold-start list
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(json.GetProperty("coldStart").GetBoolean());
        Assert.Equal($"{user}:{items.Length - 1}", json.GetProperty("newestEventId").GetString());
        Assert.Equal(live.GetProperty("historyLength").GetInt32(), json.GetProperty("historyLength").GetInt32());
        Assert.Equal(Ids(live), Ids(json)); // the same sequence gives the same answer

    }

    private static string[] Ids(JsonElement answer) => [.. answer.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()!)];

    /// <summary>Makes user grains' reads fail as a killed silo's would (message rejected: silo unavailable).</summary>
    private sealed class UnreachableUserGrains : IIncomingGrainCallFilter
    {
        private volatile bool _unreachable;

        public bool Unreachable { get => _unreachable; set => _unreachable = value; }

        public Task Invoke(IIncomingGrainCallContext context) =>
            Unreachable && context.InterfaceMethod.Name == nameof(IUserGrain.GetRecentItemsAsync)
                ? throw new SiloUnavailableException("injected: the user grain's silo was killed")
                : context.Invoke();
    }
}
