using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace MIC.Streaming.Cli.Chaos;

/// <summary>
/// After a chaos run: reads every user's history through the HTTP API (any live silo) and compares
/// it with the event ids the broker acknowledged. Lost = acknowledged but absent; duplicated = applied
/// more than once (an id twice in the history, or more events counted than distinct ids). Histories
/// are re-read until nothing is missing or the settle time ends: after a kill, the replayed part of
/// the log needs the consumer group's rebalance before it is applied.
/// </summary>
internal static class ChaosAudit
{
    public static async Task RunAsync(ChaosWorkload workload, ChaosPlan plan, HttpClient http, Action<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(plan);
        var counts = workload.Counts;
        var watch = Stopwatch.StartNew();
        var missingUsers = workload.Produced.Keys.ToList();
        var results = new Dictionary<string, (long Applied, long Duplicated)>(StringComparer.Ordinal);
        while (true)
        {
            var stillMissing = new List<string>();
            foreach (var user in missingUsers)
            {
                var history = await ReadAsync(http, plan.Silos, user, cancellationToken);
                if (history is null)
                {
                    stillMissing.Add(user);
                    continue;
                }

                var expected = workload.Produced[user].ToHashSet(StringComparer.Ordinal);
                var seen = history.Value.EventIds.GroupBy(id => id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
                var applied = expected.Count(seen.ContainsKey);
                var duplicated = seen.Values.Sum(c => (long)c - 1) + Math.Max(0, history.Value.TotalEvents - seen.Count);
                results[user] = (applied, duplicated);
                if (applied < expected.Count)
                {
                    stillMissing.Add(user);
                }
            }

            missingUsers = stillMissing;
            counts.Applied = results.Values.Sum(r => r.Applied);
            counts.Duplicated = results.Values.Sum(r => r.Duplicated);
            counts.UsersAudited = results.Count;
            counts.Lost = counts.Produced - counts.Applied;
            if (missingUsers.Count == 0 || watch.Elapsed >= plan.Settle)
            {
                return;
            }

            log($"audit: {counts.Lost:N0} events not applied yet over {missingUsers.Count:N0} users; re-reading ({watch.Elapsed.TotalSeconds:F0} s of {plan.Settle.TotalSeconds:F0} s)");
            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
        }
    }

    private static async Task<(string[] EventIds, long TotalEvents)?> ReadAsync(HttpClient http, Uri[] silos, string user, CancellationToken cancellationToken)
    {
        foreach (var silo in silos)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(silo, $"/v1/users/{Uri.EscapeDataString(user)}"), cancellationToken);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    continue;
                }

                using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
                var root = json.RootElement;
                var ids = root.GetProperty("recent").EnumerateArray().Select(e => e.GetProperty("eventId").GetString()!).ToArray();
                return (ids, root.GetProperty("totalEvents").GetInt64());
            }
            catch (HttpRequestException)
            {
            }
        }

        return null;
    }
}
