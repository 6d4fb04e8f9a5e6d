using MIC.Streaming.Grains;
using MIC.Streaming.Ingestion;
using Xunit.Abstractions;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>
/// A restart against the same Redis with a new log (a fresh broker, a recreated topic): the log
/// starts again at offset 0, the grains hold offsets of the old one. Before epochs, every new event
/// of an existing user was accepted and then skipped as a "replay" (silent loss).
/// </summary>
[Collection("cluster")]
public sealed class LogRestartTests(ITestOutputHelper output)
{
    private const int Users = 20;

    [Fact]
    public async Task Ingest_SameRedisNewBroker_NewEventsAreAppliedNotSkipped()
    {
        // Given users whose first 10 events were ingested from broker A into Redis-persisted grains
        using var redis = new RedisServer();
        var serviceId = "restart-" + Guid.NewGuid().ToString("N")[..8];
        using (var kafkaA = new MockKafkaCluster(1))
        {
            kafkaA.CreateTopic("clicks", 2);
            kafkaA.CreateTopic("clicks.dlq", 1);
            await IngestAsync(kafkaA, redis, serviceId, first: 0, count: 10, expectedTotal: 10);
        }

        // When the cluster restarts on the same Redis against broker B (the same topic, from offset 0)
        // and each user sends 5 new events
        using var kafkaB = new MockKafkaCluster(1);
        kafkaB.CreateTopic("clicks", 2);
        kafkaB.CreateTopic("clicks.dlq", 1);
        var restarts = await IngestAsync(kafkaB, redis, serviceId, first: 10, count: 5, expectedTotal: 15);

        // Then every new event is in its user's sequence, and the restart was recognised and counted
        Assert.True(restarts > 0, "the new log incarnation was not recognised");
    }

    /// <summary>Produces events [first, first+count) per user, waits until every user holds <paramref name="expectedTotal"/>; returns log restarts seen.</summary>
    private async Task<long> IngestAsync(MockKafkaCluster kafka, RedisServer redis, string serviceId, int first, int count, int expectedTotal)
    {
        var settings = StreamingCluster.KafkaSettings(kafka, "clicks", "ingest");
        var cluster = await StreamingCluster.StartAsync(1, serviceId, redis, settings);
        try
        {
            StreamingCluster.ProduceUserClicks(kafka, "clicks", Users, first, count);

            try
            {
                await StreamingCluster.WaitUntilAsync(
                    async () => (await StreamingCluster.UsersAsync(cluster.Client, Users)).All(v => v.TotalEvents == expectedTotal),
                    TimeSpan.FromSeconds(45),
                    $"every user at {expectedTotal} events");
            }
            catch (TimeoutException)
            {
                var stats = StreamingCluster.Ingestion(cluster).ToList();
                output.WriteLine($"records {stats.Sum(i => i.TotalRecords)}, applied {stats.Sum(i => i.TotalApplied)}, skipped {stats.Sum(i => i.TotalSkipped)}, unknown skipped {stats.Sum(i => i.TotalUnknownSkipped)}");
                throw;
            }

            await Task.Delay(1500); // let the last positions be committed (and recorded for restart detection)
            return StreamingCluster.Ingestion(cluster).Sum(i => i.TotalLogRestarts);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
