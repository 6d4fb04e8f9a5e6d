using MIC.Streaming.Core.Data;
using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Retrieval.Channels;

/// <summary>
/// The vectors and indexes of one model version that the channels search: items in the relevance
/// space (U2I), items in their own space (I2I), users in their own space (U2U), and the histories
/// of the indexed users. Relevance and own item matrices are unit-normalised, so inner product = cosine.
/// </summary>
public sealed class RetrievalSpaces : IDisposable
{
    public RetrievalSpaces(
        IVectorIndex itemRelevanceIndex,
        EmbeddingMatrix itemRelevance,
        IVectorIndex itemOwnIndex,
        EmbeddingMatrix itemOwn,
        IVectorIndex userOwnIndex,
        EmbeddingMatrix userOwn,
        long[] userIds,
        SequenceTable userHistories)
    {
        UserOwn = userOwn;
        UserIds = userIds;
        ItemRelevanceIndex = itemRelevanceIndex;
        ItemRelevance = itemRelevance;
        ItemOwnIndex = itemOwnIndex;
        ItemOwn = itemOwn;
        UserOwnIndex = userOwnIndex;
        UserHistories = userHistories;
    }

    public IVectorIndex ItemRelevanceIndex { get; }

    public EmbeddingMatrix ItemRelevance { get; }

    public IVectorIndex ItemOwnIndex { get; }

    public EmbeddingMatrix ItemOwn { get; }

    public IVectorIndex UserOwnIndex { get; }

    /// <summary>The indexed users' unit vectors (row i belongs to dense user <see cref="UserIds"/>[i]).</summary>
    public EmbeddingMatrix UserOwn { get; }

    public long[] UserIds { get; }

    public SequenceTable UserHistories { get; }

    /// <summary>
    /// Optional precomputed item → item neighbours in the item space (built with the version): U2I2I
    /// then needs no index search at query time. Null means U2I2I searches <see cref="ItemOwnIndex"/>.
    /// </summary>
    public ItemNeighbourTable? ItemNeighbours { get; init; }

    /// <summary>
    /// Builds exact indexes: item matrices are normalised; users with an empty history are left out
    /// of the user index (they have nothing to recommend through U2U2I).
    /// </summary>
    public static RetrievalSpaces BuildExact(EmbeddingMatrix itemRelevance, EmbeddingMatrix itemOwn, EmbeddingMatrix userOwn, SequenceTable userHistories)
    {
        ArgumentNullException.ThrowIfNull(itemRelevance);
        ArgumentNullException.ThrowIfNull(itemOwn);
        ArgumentNullException.ThrowIfNull(userOwn);
        ArgumentNullException.ThrowIfNull(userHistories);
        var rel = itemRelevance.Normalised();
        var own = itemOwn.Normalised();
        var (users, ids) = UsersWithHistory(userOwn.Normalised(), userHistories);
        return new RetrievalSpaces(new ExactIndex(rel), rel, new ExactIndex(own), own, new ExactIndex(users, ids), users, ids, userHistories);
    }

    /// <summary>The rows of users that have a history, with their dense user ids.</summary>
    public static (EmbeddingMatrix Vectors, long[] Ids) UsersWithHistory(EmbeddingMatrix userOwn, SequenceTable histories)
    {
        ArgumentNullException.ThrowIfNull(userOwn);
        ArgumentNullException.ThrowIfNull(histories);
        var ids = Enumerable.Range(0, Math.Min(userOwn.Rows, histories.UserCount)).Where(u => histories.Length(u) > 0).Select(u => (long)u).ToArray();
        var data = new float[ids.Length * userOwn.Dimension];
        for (var i = 0; i < ids.Length; i++)
        {
            userOwn.Row((int)ids[i]).CopyTo(data.AsSpan(i * userOwn.Dimension));
        }

        return (new EmbeddingMatrix(data, userOwn.Dimension), ids);
    }

    public void Dispose()
    {
        ItemRelevanceIndex.Dispose();
        ItemOwnIndex.Dispose();
        UserOwnIndex.Dispose();
    }
}
