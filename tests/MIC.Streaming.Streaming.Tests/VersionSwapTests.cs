using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MIC.Streaming.Grains;
using MIC.Streaming.Grains.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>Model versions swap under load without failed queries; a corrupt version is rejected.</summary>
[Collection("cluster")]
public sealed class VersionSwapTests
{
    [Fact]
    public async Task Queries_DuringRepeatedSwaps_NeverFail_AndCorruptVersionIsRejected()
    {
        using var store = new TempDir();
        await using var silo = await TestSilo.StartAsync("swap.clicks", 2, new Dictionary<string, string?> { ["Silo:ModelStore"] = store.Path, ["Security:CandidatesPerSecond"] = "0" });
        var grains = silo.App.Services.GetRequiredService<IGrainFactory>();
        var serving = silo.App.Services.GetRequiredService<ServingModel>();
        await TestModel.TrainAndPublishAsync(grains, store.Path, steps: 5);
        await StreamingCluster.WaitUntilAsync(() => Task.FromResult(serving.CurrentVersion == 1), TimeSpan.FromSeconds(30), "version 1 served");

        // While 4 clients query continuously, versions 2..4 are published and swapped in
        var users = Enumerable.Range(0, 20).Select(u => TestModel.Dataset.Users.GetRaw(u)).ToArray();
        var statuses = new ConcurrentBag<HttpStatusCode>();
        var versions = Enumerable.Range(0, 4).Select(_ => new List<long>()).ToArray(); // per client, in order
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 4).Select(c => Task.Run(async () =>
        {
            var i = c;
            while (!stop.IsCancellationRequested)
            {
                using var response = await silo.Http.GetAsync($"/v1/users/{users[i++ % users.Length]}/candidates?k=20");
                statuses.Add(response.StatusCode);
                if (response.IsSuccessStatusCode)
                {
                    versions[c].Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("modelVersion").GetInt64());
                }
            }
        })).ToList();
        for (var v = 2; v <= 4; v++)
        {
            await TestModel.TrainAndPublishAsync(grains, store.Path, steps: 5);
            var expected = v;
            await StreamingCluster.WaitUntilAsync(() => Task.FromResult(serving.CurrentVersion == expected), TimeSpan.FromSeconds(30), $"version {v} served");
        }

        // Then a corrupt version 5 (one index file damaged after publishing) is rejected and 4 keeps serving
        var good = ModelStore.VersionPath(store.Path, 4);
        var corrupt = ModelStore.VersionPath(store.Path, 5);
        CopyDirectory(good, corrupt);
        var victim = Directory.GetFiles(Path.Combine(corrupt, ModelStore.IndexDirectory)).First(f => !f.EndsWith(".json", StringComparison.Ordinal));
        var bytes = await File.ReadAllBytesAsync(victim);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(victim, bytes);
        await grains.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey).PublishAsync(new ModelVersionInfo(5, corrupt, DateTimeOffset.UtcNow, "corrupt"));
        await Task.Delay(1500);
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        Assert.Equal(4, serving.CurrentVersion);
        Assert.NotEmpty(statuses);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        // Each client sees versions only move forward (an atomic swap), all of them real, ending on 4.
        Assert.All(versions, seen =>
        {
            Assert.NotEmpty(seen);
            Assert.All(seen, v => Assert.InRange(v, 1, 4));
            Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First <= p.Second), "a client saw an older version after a newer one");
            Assert.Equal(4, seen[^1]);
        });
        Assert.True(versions.SelectMany(v => v).Distinct().Count() >= 2, "queries spanned at least one swap");
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync($"/v1/users/{users[0]}/candidates?k=5")).StatusCode);

        // When version 2 is rolled back to, it is published again as version 6 and served
        using (var bad = await silo.Http.PostAsync("/v1/model/rollback?to=abc", null))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        using (var missing = await silo.Http.PostAsync("/v1/model/rollback?to=99", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using var rollback = await silo.Http.PostAsync("/v1/model/rollback?to=2", null);
        Assert.Equal(HttpStatusCode.OK, rollback.StatusCode);
        Assert.Equal(6, (await rollback.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt64());
        await StreamingCluster.WaitUntilAsync(() => Task.FromResult(serving.CurrentVersion == 6), TimeSpan.FromSeconds(30), "rolled-back version served");
        Assert.Equal(
            await File.ReadAllBytesAsync(Path.Combine(ModelStore.VersionPath(store.Path, 2), ModelStore.CheckpointDirectory, "weights.bin")),
            await File.ReadAllBytesAsync(Path.Combine(ModelStore.VersionPath(store.Path, 6), ModelStore.CheckpointDirectory, "weights.bin")));

        // When ten operators roll back to version 3 at once, one version is published and all get it
        // (before: six identical versions, filling the retention window)
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => silo.Http.PostAsync("/v1/model/rollback?to=3", null)));
        Assert.All(concurrent, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var published = await Task.WhenAll(concurrent.Select(async r => (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt64()));
        Assert.All(published, v => Assert.Equal(7, v));
        Assert.False(Directory.Exists(ModelStore.VersionPath(store.Path, 8)));
        foreach (var r in concurrent)
        {
            r.Dispose();
        }

        // And a version number with a trailing NUL is not a version (int parsing accepts it)
        using var nul = await silo.Http.PostAsync("/v1/model/rollback?to=1%00", null);
        Assert.Equal(HttpStatusCode.BadRequest, nul.StatusCode);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
        }
    }
}
