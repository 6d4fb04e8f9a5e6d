using Orleans.Concurrency;
using MIC.Streaming.Grains.Serving;

namespace MIC.Streaming.Grains;

/// <summary>
/// Serves candidates: reads the user's live sequence from its <see cref="IUserGrain"/>, runs the
/// current version's user tower and the three channels on this silo (<see cref="ServingModel"/>).
/// A stateless worker, so every silo answers locally and scales with its cores; reentrant, because
/// it holds no state and most of a request's time can be the wait for the user grain (busy with an
/// ingest apply or flush): non-reentrant, the silo's few workers (one per core) each sat idle through
/// that wait and a queue that formed under load never drained.
/// </summary>
[StatelessWorker]
[Reentrant]
public sealed class RetrievalGrain(ServingModel serving) : Grain, IRetrievalGrain
{
    public async Task<CandidateResponse> GetCandidatesAsync(CandidateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var recent = await GrainFactory.GetGrain<IUserGrain>(request.UserId).GetRecentItemsAsync(MaxHistoryRead);
        return serving.Retrieve(request.UserId, recent, request.K, request.Channels);
    }

    /// <summary>Live items read per query: enough for the tower after dropping items the model does not know.</summary>
    private const int MaxHistoryRead = 200;
}
