using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Baselines;

/// <summary>
/// User-based collaborative filtering (Resnick et al., 1994; the classic U2U channel MIC is set
/// against). The query user is represented by the distinct items of the visible history H; a train
/// user v has sim = |H ∩ I(v)| / √(|H|·|I(v)|). The top <see cref="Neighbours"/> users vote for their
/// items with their similarity. Lists shorter than asked are filled with MostPop.
/// <c>neighbours</c> = null lets every user who shares an item vote.
/// </summary>
public sealed class UserCF(int? neighbours = 50) : IRecommender
{
    private readonly MostPop _fallback = new();
    private InteractionIndex? _index;
    private ScratchPool<Tuple<SparseAccumulator, SparseAccumulator>>? _scratch;

    public string Name => "UserCF";

    /// <summary>Neighbours that vote; null = all.</summary>
    public int? Neighbours { get; } = neighbours is null or > 0 ? neighbours : throw new ArgumentOutOfRangeException(nameof(neighbours));

    public void Fit(SequenceTable train, int itemCount, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        _fallback.Fit(train, itemCount, cancellationToken);
        var index = new InteractionIndex(train, itemCount);
        _index = index;
        _scratch = new ScratchPool<Tuple<SparseAccumulator, SparseAccumulator>>(() => Tuple.Create(new SparseAccumulator(index.UserCount), new SparseAccumulator(itemCount)));
    }

    public int Recommend(ReadOnlySpan<int> history, Span<int> items, Span<float> scores)
    {
        var index = _index ?? throw new InvalidOperationException("Call Fit first.");
        var scratch = _scratch!.Rent();
        var (users, itemAcc) = scratch;
        var distinct = new HashSet<int>();
        foreach (var h in history)
        {
            if ((uint)h < (uint)index.ItemCount && distinct.Add(h))
            {
                foreach (var v in index.UsersOf(h))
                {
                    users.Add(v, 1f);
                }
            }
        }

        if (users.Touched.Count > 0)
        {
            var topUsers = new TopKSelector(Math.Min(Neighbours ?? int.MaxValue, users.Touched.Count));
            foreach (var v in users.Touched)
            {
                topUsers.Add(v, (float)(users[v] / Math.Sqrt((double)distinct.Count * index.UserDegree(v))));
            }

            var nbr = new int[topUsers.Count];
            var nbrSim = new float[topUsers.Count];
            var n = topUsers.Drain(nbr, nbrSim);
            for (var k = 0; k < n; k++)
            {
                foreach (var j in index.ItemsOf(nbr[k]))
                {
                    itemAcc.Add(j, nbrSim[k]);
                }
            }
        }

        users.Clear();

        var top = new TopKSelector(items.Length);
        foreach (var j in itemAcc.Touched)
        {
            top.Add(j, itemAcc[j]);
        }

        itemAcc.Clear();
        _scratch.Return(scratch);
        var count = top.Drain(items, scores);
        return _fallback.Fill(items, scores, count);
    }
}
