using System.Diagnostics.Metrics;
using MIC.Streaming.Grains;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace MIC.Streaming.Client;

/// <summary>
/// Asks the cluster's <see cref="IRetrievalGrain"/> for a user's candidates. A stateless worker, so
/// the call runs on the gateway silo that took it, and each call (unordered) goes to the next live
/// gateway. A request is hedged (<see cref="HedgedRequest"/>): when no answer has come within
/// <see cref="MicClientOptions.HedgeAfter"/>, or an attempt failed because a silo died (connection
/// lost, silo unavailable, timeout), another attempt goes out, within
/// <see cref="MicClientOptions.MaxAttempts"/> and <see cref="MicClientOptions.RequestBudget"/>; the
/// first answer wins. After that the last error is thrown.
/// </summary>
public sealed partial class CandidatesClient
{
    private readonly IClusterClient _cluster;
    private readonly MicClientOptions _options;
    private readonly ILogger<CandidatesClient> _logger;
    private readonly Counter<long> _extraAttempts;

    public CandidatesClient(IClusterClient cluster, IOptions<MicClientOptions> options, IMeterFactory meterFactory, ILogger<CandidatesClient> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meterFactory);
        _cluster = cluster;
        _options = options.Value;
        _logger = logger;
        _extraAttempts = meterFactory.Create(MeterName).CreateCounter<long>("mic.client.extra_attempts",
            description: "Candidate requests' attempts beyond the first: reason=slow (a hedge: no answer within Mic:HedgeAfter) or reason=failed (an attempt failed transiently).");
    }

    /// <summary>The client's meter: export it to see how often requests needed more than one attempt.</summary>
    public const string MeterName = "MIC.Streaming.Client";

    public Task<CandidateResponse> GetCandidatesAsync(string userId, int k, RetrievalChannels channels = RetrievalChannels.All, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var request = new CandidateRequest(userId, k, channels);

        // Key 0 of a stateless worker: the call is served by the silo whose gateway took it.
        return HedgedRequest.RunAsync(
            _ => _cluster.GetGrain<IRetrievalGrain>(0).GetCandidatesAsync(request),
            IsTransient, _options.HedgeAfter, _options.MaxAttempts, _options.RequestBudget,
            (attempt, reason, error) =>
            {
                _extraAttempts.Add(1, new KeyValuePair<string, object?>("reason", reason == ExtraAttemptReason.Slow ? "slow" : "failed"));
                Log.ExtraAttempt(_logger, userId, attempt, reason, error);
            },
            cancellationToken);
    }

    /// <summary>Failures another attempt can fix: a silo or gateway went away, or a call timed out.</summary>
    public static bool IsTransient(Exception ex) => ex switch
    {
        TimeoutException or SiloUnavailableException or OrleansMessageRejectionException => true,
        OrleansException => true, // e.g. "no gateways available" while the list refreshes
        InvalidOperationException e => e.Message.Contains("model", StringComparison.OrdinalIgnoreCase), // a silo that has no model yet
        _ => false,
    };

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Candidates for {UserId}: attempt {Attempt} started ({Reason})")]
        public static partial void ExtraAttempt(ILogger logger, string userId, int attempt, ExtraAttemptReason reason, Exception? exception);
    }
}
