using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Baselines;

/// <summary>
/// Item-based collaborative filtering (Sarwar et al., WWW 2001; the classic I2I channel MIC is set
/// against). sim(i, j) = |U(i) ∩ U(j)| / √(|U(i)|·|U(j)|) over distinct train users, keeping the
/// top <see cref="Neighbours"/> per item. A user's score for j = Σ over the visible history items h
/// of sim(h, j). Lists shorter than asked are filled with MostPop below every real score.
/// <para><c>neighbours</c> = null keeps every co-occurring item (the form most reference
/// implementations use); a number keeps that many per item, best first.</para>
/// </summary>
public sealed class ItemCF(int? neighbours = 100) : IRecommender
{
    private readonly MostPop _fallback = new();
    private int[] _nbrOffsets = [0];
    private int[] _nbrIds = [];
    private float[] _nbrSims = [];
    private ScratchPool<SparseAccumulator>? _scratch;

    public string Name => "ItemCF";

    /// <summary>Neighbours kept per item; null = all.</summary>
    public int? Neighbours { get; } = neighbours is null or > 0 ? neighbours : throw new ArgumentOutOfRangeException(nameof(neighbours));

    public void Fit(SequenceTable train, int itemCount, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        _fallback.Fit(train, itemCount, cancellationToken);
        var index = new InteractionIndex(train, itemCount);
        var ids = new int[itemCount][];
        var sims = new float[itemCount][];
        var options = new ParallelOptions { CancellationToken = cancellationToken };
        Parallel.For(
            0,
            itemCount,
            options,
            () => new SparseAccumulator(itemCount),
            (i, _, acc) =>
            {
                foreach (var u in index.UsersOf(i))
                {
                    foreach (var j in index.ItemsOf(u))
                    {
                        if (j != i)
                        {
                            acc.Add(j, 1f);
                        }
                    }
                }

                if (acc.Touched.Count == 0)
                {
                    ids[i] = [];
                    sims[i] = [];
                    return acc;
                }

                var di = index.ItemDegree(i);
                var top = new TopKSelector(Math.Min(Neighbours ?? int.MaxValue, acc.Touched.Count));
                foreach (var j in acc.Touched)
                {
                    top.Add(j, (float)(acc[j] / Math.Sqrt((double)di * index.ItemDegree(j))));
                }

                acc.Clear();
                ids[i] = new int[top.Count];
                sims[i] = new float[top.Count];
                top.Drain(ids[i], sims[i]);
                return acc;
            },
            _ => { });

        _nbrOffsets = new int[itemCount + 1];
        for (var i = 0; i < itemCount; i++)
        {
            _nbrOffsets[i + 1] = _nbrOffsets[i] + ids[i].Length;
        }

        _nbrIds = new int[_nbrOffsets[^1]];
        _nbrSims = new float[_nbrOffsets[^1]];
        for (var i = 0; i < itemCount; i++)
        {
            ids[i].CopyTo(_nbrIds, _nbrOffsets[i]);
            sims[i].CopyTo(_nbrSims, _nbrOffsets[i]);
        }

        _scratch = new ScratchPool<SparseAccumulator>(() => new SparseAccumulator(itemCount));
    }

    /// <summary>The stored neighbours of an item, best first.</summary>
    public (ReadOnlyMemory<int> Ids, ReadOnlyMemory<float> Similarities) NeighboursOf(int item) =>
        (_nbrIds.AsMemory(_nbrOffsets[item], _nbrOffsets[item + 1] - _nbrOffsets[item]),
         _nbrSims.AsMemory(_nbrOffsets[item], _nbrOffsets[item + 1] - _nbrOffsets[item]));

    public int Recommend(ReadOnlySpan<int> history, Span<int> items, Span<float> scores)
    {
        var pool = _scratch ?? throw new InvalidOperationException("Call Fit first.");
        var acc = pool.Rent();
        foreach (var h in history)
        {
            if ((uint)h >= (uint)(_nbrOffsets.Length - 1))
            {
                continue; // an item unknown to train has no neighbours
            }

            for (var p = _nbrOffsets[h]; p < _nbrOffsets[h + 1]; p++)
            {
                acc.Add(_nbrIds[p], _nbrSims[p]);
            }
        }

        var top = new TopKSelector(items.Length);
        foreach (var j in acc.Touched)
        {
            top.Add(j, acc[j]);
        }

        acc.Clear();
        pool.Return(acc);
        var n = top.Drain(items, scores);
        return _fallback.Fill(items, scores, n);
    }
}
