using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Storage;
using MIC.Streaming.Grains.Serving;

namespace MIC.Streaming.Grains;

/// <summary>
/// Serves candidates: reads the user's live sequence from its <see cref="IUserGrain"/>, runs the
/// current version's user tower and the three channels on this silo (<see cref="ServingModel"/>).
/// A stateless worker, so every silo answers locally and scales with its cores; reentrant, because
/// it holds no state and most of a request's time can be the wait for the user grain (busy with an
/// ingest apply or flush): non-reentrant, the silo's few workers (one per core) each sat idle through
/// that wait and a queue that formed under load never drained.
/// <para>
/// When the user grain does not answer within <see cref="ServingOptions.LiveSequenceTimeout"/> (its
/// silo was killed and is not yet declared dead, which takes seconds), the query is answered from
/// the user's last stored sequence — read from grain storage without activating anything, at most
/// one write-behind flush old — and counted in <c>mic.serving.stale_sequence_reads</c>. Only when
/// storage fails too does the user get the cold-start answer.
/// </para>
/// </summary>
[StatelessWorker]
[Reentrant]
public sealed partial class RetrievalGrain(
    ServingModel serving,
    ServingInstruments instruments,
    IOptions<ServingOptions> options,
    [FromKeyedServices(StorageNames.Users)] IGrainStorage users,
    ILogger<RetrievalGrain> logger) : Grain, IRetrievalGrain
{
    private readonly TimeSpan _liveTimeout = options.Value.LiveSequenceTimeout;

    public async Task<CandidateResponse> GetCandidatesAsync(CandidateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var user = GrainFactory.GetGrain<IUserGrain>(request.UserId);
        RecentItems recent;
        try
        {
            recent = await user.GetRecentItemsAsync(MaxHistoryRead).WaitAsync(_liveTimeout);
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            // Timed out, silo unavailable, or the activation failed (storage down while it loaded).
            recent = await ReadStoredAsync(user, ex);
        }

        return await serving.RetrieveAsync(request.UserId, recent, request.K, request.Channels);
    }

    /// <summary>The user's sequence as last flushed, straight from grain storage (no activation).</summary>
    private async Task<RecentItems> ReadStoredAsync(IUserGrain user, Exception liveFailure)
    {
        try
        {
            var state = new GrainState<UserState>(new UserState());
            await users.ReadStateAsync(UserGrain.StateName, user.GetGrainId(), state).WaitAsync(_liveTimeout); // both reads together stay under a client's 1 s attempt
            instruments.RecordStaleRead("storage");
            Log.ServedStale(logger, liveFailure);
            return UserGrain.Recent(state.State ?? new UserState(), MaxHistoryRead);
        }
        catch (Exception ex) // storage down or slow too (e.g. Redis restarting): popularity beats an error
        {
            instruments.RecordStaleRead("none");
            Log.ServedCold(logger, ex);
            return new RecentItems([], null, null);
        }
    }

    /// <summary>Live items read per query: enough for the tower after dropping items the model does not know.</summary>
    private const int MaxHistoryRead = 200;

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Candidates from the user's stored sequence: the live grain did not answer")]
        public static partial void ServedStale(ILogger logger, Exception failure);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Candidates from popularity: neither the live user grain nor storage answered")]
        public static partial void ServedCold(ILogger logger, Exception failure);
    }
}
