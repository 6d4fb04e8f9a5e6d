using System.Diagnostics;
using MIC.Streaming.Grains;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace MIC.Streaming.Client;

/// <summary>
/// Asks the cluster's <see cref="IRetrievalGrain"/> for a user's candidates. A stateless worker, so
/// the call runs on the gateway silo the client reached. A call that fails because a silo died
/// (connection lost, silo unavailable, timeout) is retried on another gateway, within
/// <see cref="MicClientOptions.MaxAttempts"/> and <see cref="MicClientOptions.RequestBudget"/>;
/// after that the last error is thrown.
/// </summary>
public sealed partial class CandidatesClient(IClusterClient cluster, IOptions<MicClientOptions> options, ILogger<CandidatesClient> logger)
{
    private readonly MicClientOptions _options = options.Value;

    public async Task<CandidateResponse> GetCandidatesAsync(string userId, int k, RetrievalChannels channels = RetrievalChannels.All, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var request = new CandidateRequest(userId, k, channels);
        var watch = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // Key 0 of a stateless worker: the call is served by the silo whose gateway took it.
                return await cluster.GetGrain<IRetrievalGrain>(0).GetCandidatesAsync(request).WaitAsync(cancellationToken);
            }
            catch (Exception ex) when (IsTransient(ex) && attempt < _options.MaxAttempts && !cancellationToken.IsCancellationRequested)
            {
                var backoff = TimeSpan.FromMilliseconds(25 * attempt);
                if (watch.Elapsed + backoff >= _options.RequestBudget)
                {
                    throw;
                }

                Log.Retrying(logger, userId, attempt, ex);
                await Task.Delay(backoff, cancellationToken);
            }
        }
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
        [LoggerMessage(Level = LogLevel.Debug, Message = "Candidates for {UserId}: attempt {Attempt} failed; retrying")]
        public static partial void Retrying(ILogger logger, string userId, int attempt, Exception exception);
    }
}
