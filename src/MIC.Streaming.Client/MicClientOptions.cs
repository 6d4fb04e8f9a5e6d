namespace MIC.Streaming.Client;

/// <summary>
/// Section "Mic" of a service that asks the silos for candidates through Orleans. The silos'
/// gateways are found in the same Redis membership table the silos write (Silo:Clustering=Redis).
/// </summary>
public sealed class MicClientOptions
{
    public const string SectionName = "Mic";

    /// <summary>StackExchange.Redis configuration string of the silos' membership table, e.g. "redis:6379".</summary>
    public string Redis { get; set; } = "";

    /// <summary>Must equal the silos' Silo:ClusterId.</summary>
    public string ClusterId { get; set; } = "mic";

    /// <summary>Must equal the silos' Silo:ServiceId.</summary>
    public string ServiceId { get; set; } = "mic-streaming";

    /// <summary>How often the gateway list is re-read from Redis (Orleans' default is one minute: a killed silo would be tried that long).</summary>
    public TimeSpan GatewayListRefreshPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>One grain call's timeout (below the whole request's <see cref="RequestBudget"/>, so a retry fits).</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromMilliseconds(900);

    /// <summary>
    /// When the attempts in flight have not answered within this, another goes out (a hedge; the
    /// first answer wins). Above the serving latency a healthy cluster shows under load, so hedges
    /// stay rare; below <see cref="ResponseTimeout"/>, so a call stuck on a killed gateway costs this
    /// rather than the whole timeout.
    /// </summary>
    public TimeSpan HedgeAfter { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>All attempts of one request together, hedges, retries and back-off included.</summary>
    public TimeSpan RequestBudget { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Attempts per request (the first one and the hedges included).</summary>
    public int MaxAttempts { get; set; } = 4;

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Redis))
        {
            yield return $"{SectionName}:{nameof(Redis)} is required (the silos' Silo:Redis, e.g. 127.0.0.1:6379).";
        }

        if (string.IsNullOrWhiteSpace(ClusterId) || string.IsNullOrWhiteSpace(ServiceId))
        {
            yield return $"{SectionName}:{nameof(ClusterId)} and {SectionName}:{nameof(ServiceId)} are required (the silos' values).";
        }

        if (GatewayListRefreshPeriod < TimeSpan.FromSeconds(1) || GatewayListRefreshPeriod > TimeSpan.FromMinutes(10))
        {
            yield return $"{SectionName}:{nameof(GatewayListRefreshPeriod)} must be 1 s–10 min (got {GatewayListRefreshPeriod}).";
        }

        if (ResponseTimeout < TimeSpan.FromMilliseconds(50) || ResponseTimeout > RequestBudget)
        {
            yield return $"{SectionName}:{nameof(ResponseTimeout)} must be 50 ms or more and at most {nameof(RequestBudget)} (got {ResponseTimeout}).";
        }

        if (HedgeAfter < TimeSpan.FromMilliseconds(10) || HedgeAfter > ResponseTimeout)
        {
            yield return $"{SectionName}:{nameof(HedgeAfter)} must be 10 ms or more and at most {nameof(ResponseTimeout)} (got {HedgeAfter}).";
        }

        if (RequestBudget < TimeSpan.FromMilliseconds(100) || RequestBudget > TimeSpan.FromMinutes(1))
        {
            yield return $"{SectionName}:{nameof(RequestBudget)} must be 100 ms–1 min (got {RequestBudget}).";
        }

        if (MaxAttempts is < 1 or > 10)
        {
            yield return $"{SectionName}:{nameof(MaxAttempts)} must be 1–10 (got {MaxAttempts}).";
        }
    }
}
