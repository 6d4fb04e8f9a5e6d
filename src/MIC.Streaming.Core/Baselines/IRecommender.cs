using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Baselines;

/// <summary>
/// Anything that ranks items for a user given only the user's visible history (evaluation users
/// are never in train under the ComiRec protocol, so a recommender cannot rely on a user id).
/// To add a recommender: 1. implement this in a file named after it; 2. register it in
/// <see cref="Recommenders.Create"/>; 3. add a test on the planted synthetic data.
/// </summary>
public interface IRecommender
{
    string Name { get; }

    /// <summary>Learns from the train sequences (one per dataset user; many may be empty).</summary>
    void Fit(SequenceTable train, int itemCount, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes up to <c>items.Length</c> item ids best-first into <paramref name="items"/> and their
    /// scores into <paramref name="scores"/>; returns how many were written. Thread-safe after Fit.
    /// </summary>
    int Recommend(ReadOnlySpan<int> history, Span<int> items, Span<float> scores);
}
