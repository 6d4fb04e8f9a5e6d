using MIC.Streaming.Grains;
using MIC.Streaming.Ingestion;
using Xunit.Abstractions;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>
/// A batch the consumer drops before applying it (a grain call on the way fails: here the log-epoch
/// grain, as when its silo was just killed) must be read again. Found by scripts/chaos.sh (68 events
/// lost after a kill -9): the rewind only sought partitions this consumer had committed itself, so a
/// partition newly assigned after a rebalance kept its fetch position past the dropped records.
/// </summary>
[Collection("cluster")]
public sealed class RewindTests(ITestOutputHelper output)
{
    private const int Users = 20;
    private const int EventsPerUser = 10;

    [Fact]
    public async Task Ingest_BatchDroppedBeforeApply_OnNewlyAssignedPartitions_IsReadAgain()
    {
        // Given a silo whose first two log-epoch resolutions fail (the epoch grain's silo just died)
        using var kafka = new MockKafkaCluster(1);
        kafka.CreateTopic("clicks", 2);
        kafka.CreateTopic("clicks.dlq", 1);
        var failures = new FailFirstCalls(nameof(ILogEpochGrain.ResolveAsync), 2);
        var cluster = await StreamingCluster.StartAsync(1, "rewind-" + Guid.NewGuid().ToString("N")[..8], null,
            StreamingCluster.KafkaSettings(kafka, "clicks", "ingest"), configure: silo => silo.AddIncomingGrainCallFilter(failures));
        try
        {
            // When every user's events are produced
            StreamingCluster.ProduceUserClicks(kafka, "clicks", Users, 0, EventsPerUser);

            // Then, after the failed batches were dropped and read again, every event is applied once
            try
            {
                await StreamingCluster.WaitUntilAsync(
                    async () => (await StreamingCluster.UsersAsync(cluster.Client, Users)).All(v => v.TotalEvents == EventsPerUser),
                    TimeSpan.FromSeconds(30),
                    $"every user at {EventsPerUser} events");
            }
            finally
            {
                var totals = await StreamingCluster.UsersAsync(cluster.Client, Users);
                output.WriteLine($"failed resolutions {failures.Failed}; events held {totals.Sum(v => v.TotalEvents)} of {Users * EventsPerUser}");
            }

            Assert.Equal(2, failures.Failed);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    /// <summary>Fails the first <paramref name="count"/> calls of one grain method with a timeout.</summary>
    private sealed class FailFirstCalls(string method, int count) : IIncomingGrainCallFilter
    {
        private int _calls;

        public int Failed => Math.Min(Volatile.Read(ref _calls), count);

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod.Name == method && Interlocked.Increment(ref _calls) <= count)
            {
                throw new TimeoutException($"injected: {method} failed (its silo was killed)");
            }

            return context.Invoke();
        }
    }
}
