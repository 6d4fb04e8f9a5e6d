using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Ingestion;

namespace MIC.Streaming.Cli.Chaos;

/// <summary>What <see cref="ChaosWorkload"/> does and where (see <c>mic chaos --help</c>).</summary>
internal sealed record ChaosPlan(
    string Bootstrap,
    string Topic,
    Uri[] Silos,
    Uri? Service,
    TimeSpan Duration,
    int Users,
    int Items,
    double EventsPerSecond,
    double QueriesPerSecond,
    TimeSpan QueryDeadline,
    TimeSpan Settle,
    int Seed);

/// <summary>Counts of one run; the audit fills the last four after producing has ended.</summary>
internal sealed class ChaosCounts
{
    public long Produced;
    public long Unconfirmed; // delivery failed or unknown: neither counted as produced nor as lost
    public long HttpQueries;
    public long HttpFailed;
    public long ClientQueries;
    public long ClientFailed;
    public long Applied;
    public long Lost;
    public long Duplicated;
    public int UsersAudited;

    /// <summary>Why failed queries failed: the last answer or error each got, counted.</summary>
    public ConcurrentDictionary<string, long> FailureReasons { get; } = new(StringComparer.Ordinal);

    public void Failure(string reason) => FailureReasons.AddOrUpdate(reason, 1, (_, n) => n + 1);

    public long Queries => HttpQueries + ClientQueries;

    public long Failed => HttpFailed + ClientFailed;
}

/// <summary>
/// The load of a chaos run, against a cluster someone else is disrupting (scripts/chaos.sh kills
/// and restarts its processes meanwhile): a known stream of clicks with unique event ids over many
/// users, produced to Kafka at a fixed rate, while candidates are queried at a fixed rate both over
/// HTTP (each query goes to whichever serving silo answers, as a Kubernetes Service routes to live
/// pods) and through the sample service (the Orleans client path). A query failed when no silo
/// answered it with 200 within <see cref="ChaosPlan.QueryDeadline"/>. Afterwards
/// <see cref="ChaosAudit"/> reads every user's history and compares it with what was produced.
/// </summary>
internal sealed class ChaosWorkload(ChaosPlan plan, Action<string> log)
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<string>> _produced = new(StringComparer.Ordinal);
    private readonly string _run = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    public ChaosCounts Counts { get; } = new();

    /// <summary>Event ids whose delivery the broker acknowledged, per user.</summary>
    public IReadOnlyDictionary<string, ConcurrentBag<string>> Produced => _produced;

    public string UserId(int n) => $"chaos{_run}-u{n}";

    public async Task RunAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(plan.Duration);
        var queries = new List<Task>
        {
            QueryLoopAsync(http, viaService: false, stop.Token),
        };
        if (plan.Service is not null)
        {
            queries.Add(QueryLoopAsync(http, viaService: true, stop.Token));
        }

        await ProduceAsync(stop.Token);
        await Task.WhenAll(queries);
    }

    private async Task ProduceAsync(CancellationToken cancellationToken)
    {
        using var publisher = new ClickPublisher(plan.Bootstrap, plan.Topic);
        var random = new Random(plan.Seed);
        var pending = new List<Task>();
        var watch = Stopwatch.StartNew();
        long sequence = 0;
        var nextReport = TimeSpan.FromSeconds(10);
        while (!cancellationToken.IsCancellationRequested)
        {
            // Paced by the wall clock: what a stall (a paused broker) delays is caught up after.
            var due = (long)(watch.Elapsed.TotalSeconds * plan.EventsPerSecond);
            for (; sequence < due; sequence++)
            {
                var user = UserId(random.Next(plan.Users));
                var evt = new ClickEvent($"chaos{_run}-e{sequence}", user, $"i{random.Next(plan.Items)}", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                pending.Add(PublishOneAsync(publisher, evt));
            }

            pending.RemoveAll(t => t.IsCompleted);
            if (watch.Elapsed >= nextReport)
            {
                log($"{watch.Elapsed.TotalSeconds:F0} s: produced {Interlocked.Read(ref Counts.Produced):N0}, in flight {pending.Count:N0}, queries {Counts.Queries:N0} (failed {Counts.Failed:N0})");
                nextReport += TimeSpan.FromSeconds(10);
            }

            try
            {
                await Task.Delay(20, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        log($"producing stopped after {sequence:N0} events; waiting for the broker's acknowledgements");
        await Task.WhenAll(pending);
    }

    private async Task PublishOneAsync(ClickPublisher publisher, ClickEvent evt)
    {
        try
        {
            await publisher.PublishAsync(evt);
            _produced.GetOrAdd(evt.UserId, _ => []).Add(evt.EventId);
            Interlocked.Increment(ref Counts.Produced);
        }
        catch (Confluent.Kafka.KafkaException)
        {
            Interlocked.Increment(ref Counts.Unconfirmed);
        }
    }

    /// <summary>Open loop: one query per tick, whether or not earlier ones have answered.</summary>
    private async Task QueryLoopAsync(HttpClient http, bool viaService, CancellationToken cancellationToken)
    {
        var random = new Random(plan.Seed + (viaService ? 2 : 1));
        var inFlight = new List<Task>();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / plan.QueriesPerSecond));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var user = UserId(random.Next(plan.Users));
                inFlight.Add(viaService ? ServiceQueryAsync(http, user) : SiloQueryAsync(http, user, random.Next(plan.Silos.Length)));
                inFlight.RemoveAll(t => t.IsCompleted);
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(inFlight);
    }

    /// <summary>Tries the silos in turn from <paramref name="first"/> until one answers 200, within the deadline.</summary>
    private async Task SiloQueryAsync(HttpClient http, string user, int first)
    {
        Interlocked.Increment(ref Counts.HttpQueries);
        using var deadline = new CancellationTokenSource(plan.QueryDeadline);
        var last = "no attempt";
        for (var i = 0; !deadline.IsCancellationRequested; i++)
        {
            var silo = plan.Silos[(first + i) % plan.Silos.Length];
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
            attempt.CancelAfter(plan.QueryDeadline / 2); // a silo that hangs is left for another, as a client's retry would
            try
            {
                using var response = await http.GetAsync(new Uri(silo, $"/v1/users/{user}/candidates?k=20"), attempt.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                last = $"http: {(int)response.StatusCode}";
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                // Connection refused (a killed silo): the next one, as a Service routes around a dead pod.
                last = "http: " + (ex is OperationCanceledException ? "timeout" : "connection failed");
            }

            if (i >= plan.Silos.Length - 1)
            {
                await Task.Delay(50, CancellationToken.None);
            }
        }

        Interlocked.Increment(ref Counts.HttpFailed);
        Counts.Failure(last);
    }

    private async Task ServiceQueryAsync(HttpClient http, string user)
    {
        Interlocked.Increment(ref Counts.ClientQueries);
        using var deadline = new CancellationTokenSource(plan.QueryDeadline);
        try
        {
            using var response = await http.GetAsync(new Uri(plan.Service!, $"/recommend/{user}?k=20"), deadline.Token);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            Counts.Failure($"client: {(int)response.StatusCode}");
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            Counts.Failure("client: " + (ex is OperationCanceledException ? "timeout" : "connection failed"));
        }

        Interlocked.Increment(ref Counts.ClientFailed);
    }
}
