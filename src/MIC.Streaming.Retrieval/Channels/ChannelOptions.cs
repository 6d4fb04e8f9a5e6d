namespace MIC.Streaming.Retrieval.Channels;

/// <summary>Knobs of the three channels and the merger.</summary>
public sealed record ChannelOptions
{
    /// <summary>U2U2I: how many similar users are expanded.</summary>
    public int SimilarUsers { get; init; } = 20;

    /// <summary>U2U2I: how many of each similar user's most recent items are candidates.</summary>
    public int ItemsPerSimilarUser { get; init; } = 50;

    /// <summary>U2I2I: how many of the query user's most recent items are expanded.</summary>
    public int RecentHistoryItems { get; init; } = 20;

    /// <summary>U2I2I: how many similar items per history item.</summary>
    public int SimilarItemsPerHistoryItem { get; init; } = 50;

    /// <summary>Merger: weight of each channel's normalised score (U2I, U2U2I, U2I2I).</summary>
    public float WeightU2I { get; init; } = 1f;

    public float WeightU2U2I { get; init; } = 1f;

    public float WeightU2I2I { get; init; } = 1f;

    public void Validate()
    {
        if (SimilarUsers < 1 || ItemsPerSimilarUser < 1 || RecentHistoryItems < 1 || SimilarItemsPerHistoryItem < 1)
        {
            throw new ArgumentException("Channel fan-out settings must be ≥ 1.");
        }

        if (WeightU2I < 0 || WeightU2U2I < 0 || WeightU2I2I < 0 || WeightU2I + WeightU2U2I + WeightU2I2I <= 0)
        {
            throw new ArgumentException("Channel weights must be ≥ 0 and not all 0.");
        }
    }
}
