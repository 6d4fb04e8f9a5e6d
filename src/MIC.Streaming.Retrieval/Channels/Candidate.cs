namespace MIC.Streaming.Retrieval.Channels;

/// <summary>The retrieval channels of the MIC paper; a flags set records an item's provenance.</summary>
[Flags]
public enum ChannelSet
{
    None = 0,

    /// <summary>User vector → nearest items (shared user–item space).</summary>
    U2I = 1,

    /// <summary>Similar users' histories (user space), ranked by user similarity × user–item cosine.</summary>
    U2U2I = 2,

    /// <summary>Items similar to the user's history items (item space), ranked the same way.</summary>
    U2I2I = 4,

    All = U2I | U2U2I | U2I2I,
}

/// <summary>One retrieved item with its score and the channels that proposed it.</summary>
public readonly record struct Candidate(int Item, float Score, ChannelSet Channels);

/// <summary>
/// A user at query time: interest vectors in the user's own space (for U2U) and in the user–item
/// relevance space (for U2I and the cosine that ranks U2U2I / U2I2I), plus the recent history
/// (dense item ids, oldest first). Single-interest encoders have one vector of each.
/// </summary>
public sealed record UserQuery(float[][] OwnInterests, float[][] RelevanceInterests, int[] History, int? UserIndex = null);
