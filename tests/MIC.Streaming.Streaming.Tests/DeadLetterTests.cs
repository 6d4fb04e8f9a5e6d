using System.Globalization;
using System.Text;
using Confluent.Kafka;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Grains;
using MIC.Streaming.Ingestion;

namespace MIC.Streaming.Streaming.Tests;

[Collection("cluster")]
public sealed class DeadLetterTests
{
    private const int Malformed = 10_000;
    private const int Users = 500;
    private const int EventsPerUser = 10;

    [Fact]
    public async Task Ingest_TenThousandMalformedRecords_AllDeadLetteredWhileValidEventsFlow()
    {
        // Given a 2-silo cluster consuming a topic into which malformed and valid records are mixed
        using var kafka = new MockKafkaCluster(1);
        kafka.CreateTopic("mixed", 16);
        kafka.CreateTopic("mixed.dlq", 4);
        var cluster = await StreamingCluster.StartAsync(2, "dlq-" + Guid.NewGuid().ToString("N")[..8], redis: null, StreamingCluster.KafkaSettings(kafka, "mixed", "dlq-test"));
        try
        {
            var bad = MalformedRecords().ToList();
            using (var publisher = new ClickPublisher(kafka.BootstrapServers, "mixed"))
            {
                var b = 0;
                for (var i = 0; i < EventsPerUser; i++)
                {
                    for (var u = 0; u < Users; u++)
                    {
                        var user = "d" + u.ToString(CultureInfo.InvariantCulture);
                        publisher.Enqueue(new ClickEvent($"{user}:{i}", user, "i" + ((u + i) % 50).ToString(CultureInfo.InvariantCulture), 1_700_000_000 + i));
                        for (var k = 0; k < 2 && b < bad.Count; k++, b++)
                        {
                            publisher.EnqueueRaw("bad" + (b % 97).ToString(CultureInfo.InvariantCulture), bad[b]);
                        }
                    }
                }

                for (; b < bad.Count; b++)
                {
                    publisher.EnqueueRaw("bad", bad[b]);
                }

                Assert.Equal(0, publisher.Flush(TimeSpan.FromSeconds(30)));
                Assert.Equal(0, publisher.Failed);
            }

            // Then every valid event is applied
            await StreamingCluster.WaitUntilAsync(
                async () => (await Task.WhenAll(Enumerable.Range(0, Users).Select(u => cluster.Client.GetGrain<IUserGrain>("d" + u.ToString(CultureInfo.InvariantCulture)).GetAsync())))
                    .All(v => v.TotalEvents == EventsPerUser),
                TimeSpan.FromSeconds(90), "valid events applied");

            // And every malformed record is counted and sits in the dead-letter topic with its bytes, position and reason
            await StreamingCluster.WaitUntilAsync(() => Task.FromResult(StreamingCluster.Ingestion(cluster).Sum(i => i.TotalDeadLettered) >= Malformed), TimeSpan.FromSeconds(30), "dead letters counted");
            var stats = StreamingCluster.Ingestion(cluster).ToList();
            Assert.True(Malformed == stats.Sum(i => i.TotalDeadLettered), $"dead-lettered {stats.Sum(i => i.TotalDeadLettered)}, rewinds {stats.Sum(i => i.TotalRewinds)}, commits {stats.Sum(i => i.TotalCommits)}, records {stats.Sum(i => i.TotalRecords)}");
            var letters = ReadAll(kafka.BootstrapServers, "mixed.dlq", Malformed);
            Assert.Equal(Malformed, letters.Count);
            var sent = bad.Select(Convert.ToBase64String).ToHashSet();
            Assert.All(letters, l =>
            {
                var (reason, topic, partition, offset) = DeadLetters.Describe(l.Message.Headers);
                Assert.False(string.IsNullOrEmpty(reason));
                Assert.Equal("mixed", topic);
                Assert.InRange(partition, 0, 15);
                Assert.True(offset >= 0);
                Assert.Contains(Convert.ToBase64String(l.Message.Value ?? []), sent);
            });
            Assert.Equal(sent.Count, letters.Select(l => Convert.ToBase64String(l.Message.Value ?? [])).Distinct().Count(v => sent.Contains(v)));
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    /// <summary>10,000 distinct malformed payloads of every kind the parser rejects.</summary>
    private static IEnumerable<byte[]> MalformedRecords()
    {
        for (var i = 0; i < Malformed; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            var text = (i % 10) switch
            {
                0 => "{\"eventId\":\"b" + n + "\",\"userId\":",                                                  // truncated JSON
                1 => "{\"eventId\":\"b" + n + "\",\"userId\":\"u\",\"timestamp\":1}",                            // missing itemId
                2 => "{\"eventId\":\"b" + n + "\",\"userId\":true,\"itemId\":\"i\",\"timestamp\":1}",            // wrong type
                3 => "{\"eventId\":\"b" + n + "\",\"userId\":-" + n + ",\"itemId\":\"i\",\"timestamp\":1}",      // negative id
                4 => "{\"eventId\":\"b" + n + "\",\"userId\":1" + new string('9', 30) + ",\"itemId\":\"i\",\"timestamp\":1}", // overflowing id
                5 => "{\"eventId\":\"b" + n + "\",\"userId\":\"u\",\"itemId\":\"i\",\"timestamp\":\"yesterday\"}", // bad timestamp
                6 => "not json at all " + n,
                7 => "[1,2," + n + "]",
                8 => "{\"eventId\":\"b" + n + "\",\"userId\":\"\",\"itemId\":\"i\",\"timestamp\":1}",             // empty id
                _ => i % 1000 == 9
                    ? "{\"eventId\":\"b" + n + "\",\"pad\":\"" + new string('x', ClickEvent.MaxPayloadBytes) + "\"}" // huge payload
                    : "{\"eventId\":\"b" + n + "\",\"userId\":\"u\",\"itemId\":{\"nested\":1},\"timestamp\":1}",  // object id
            };
            yield return Encoding.UTF8.GetBytes(text);
        }
    }

    private static List<ConsumeResult<byte[]?, byte[]?>> ReadAll(string bootstrap, string topic, int expected)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "dlq-reader-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var result = new List<ConsumeResult<byte[]?, byte[]?>>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (result.Count < expected && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (r is not null && !r.IsPartitionEOF)
            {
                result.Add(r);
            }
        }

        // Anything beyond the expected count would be a duplicate dead letter.
        while (consumer.Consume(TimeSpan.FromSeconds(1)) is { } extra)
        {
            result.Add(extra);
        }

        consumer.Close();
        return result;
    }
}
