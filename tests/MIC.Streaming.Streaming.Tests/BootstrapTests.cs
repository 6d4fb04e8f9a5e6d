using MIC.Streaming.Grains;
using MIC.Streaming.Grains.Serving;
using Microsoft.Extensions.DependencyInjection;

namespace MIC.Streaming.Streaming.Tests;

[Collection("cluster")]
public sealed class BootstrapTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Silo_WithBootstrapCheckpointAndEmptyRegistry_PublishesAndServesVersion1()
    {
        // Given a checkpoint on disk and a fresh cluster with an empty registry
        using var dir = new TempDir();
        var checkpoint = Path.Combine(dir.Path, "ckpt");
        TestModel.TrainAndSaveCheckpoint(checkpoint);
        var logs = new CapturingLoggerProvider();
        var cluster = await StreamingCluster.StartAsync(2, "boot-" + Guid.NewGuid().ToString("N")[..8], redis: null, new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = "127.0.0.1:9",
            ["Kafka:ConsumerEnabled"] = "false",
            ["Serving:BootstrapCheckpoint"] = checkpoint,
            ["Serving:PollInterval"] = "00:00:00.200",
            ["Silo:ModelStore"] = Path.Combine(dir.Path, "store"),
        }, logs);
        try
        {
            // Then version 1 is registered once and every silo serves it
            var servings = cluster.GetActiveSilos().Select(s => cluster.GetSiloServiceProvider(s.SiloAddress).GetRequiredService<ServingModel>()).ToList();
            try
            {
                await StreamingCluster.WaitUntilAsync(() => Task.FromResult(servings.All(s => s.CurrentVersion == 1)), TimeSpan.FromSeconds(60), "both silos serve version 1");
            }
            catch (TimeoutException)
            {
                output.WriteLine($"serving versions: {string.Join(", ", servings.Select(s => s.CurrentVersion))}");
                foreach (var line in logs.Lines)
                {
                    output.WriteLine(line);
                }

                throw;
            }

            var history = await cluster.Client.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey).GetHistoryAsync();
            Assert.Single(history);
            Assert.Equal([1L], ModelStore.Versions(Path.Combine(dir.Path, "store")));

            // And candidates come back for a user of the checkpoint's dataset
            var user = TestModel.Dataset.Users.GetRaw(0);
            var response = await cluster.Client.GetGrain<IRetrievalGrain>(0).GetCandidatesAsync(new CandidateRequest(user, 10, RetrievalChannels.All));
            Assert.Equal(1, response.ModelVersion);
            Assert.Equal(10, response.Items.Length);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
