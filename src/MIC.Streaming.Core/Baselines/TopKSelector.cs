namespace MIC.Streaming.Core.Baselines;

/// <summary>
/// Keeps the K best (score, id) pairs seen so far with a bounded min-heap. Ties are broken by the
/// smaller id, so rankings are deterministic whatever the visiting order.
/// </summary>
public sealed class TopKSelector
{
    private readonly float[] _scores;
    private readonly int[] _ids;
    private int _count;

    public TopKSelector(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        K = k;
        _scores = new float[k];
        _ids = new int[k];
    }

    public int K { get; }

    public int Count => _count;

    public void Clear() => _count = 0;

    /// <summary>The lowest kept score (the bar a new pair must clear once K pairs are kept).</summary>
    public float MinScore => _count == 0 ? float.NegativeInfinity : _scores[0];

    /// <summary>True when (a, ia) ranks below (b, ib): lower score, or equal score and larger id.</summary>
    private static bool Worse(float a, int ia, float b, int ib) => a < b || (a == b && ia > ib);

    public void Add(int id, float score)
    {
        if (_count < K)
        {
            var i = _count++;
            _scores[i] = score;
            _ids[i] = id;
            SiftUp(i);
            return;
        }

        if (!Worse(_scores[0], _ids[0], score, id))
        {
            return; // not better than the current worst
        }

        _scores[0] = score;
        _ids[0] = id;
        SiftDown(0);
    }

    /// <summary>Writes the kept pairs best-first and returns how many; the selector is left empty.</summary>
    public int Drain(Span<int> ids, Span<float> scores)
    {
        var n = _count;
        for (var i = n - 1; i >= 0; i--)
        {
            ids[i] = _ids[0];
            scores[i] = _scores[0];
            _count--;
            if (_count > 0)
            {
                _scores[0] = _scores[_count];
                _ids[0] = _ids[_count];
                SiftDown(0);
            }
        }

        return n;
    }

    private void SiftUp(int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (!Worse(_scores[i], _ids[i], _scores[parent], _ids[parent]))
            {
                break;
            }

            Swap(i, parent);
            i = parent;
        }
    }

    private void SiftDown(int i)
    {
        while (true)
        {
            var l = (2 * i) + 1;
            var r = l + 1;
            var worst = i;
            if (l < _count && Worse(_scores[l], _ids[l], _scores[worst], _ids[worst]))
            {
                worst = l;
            }

            if (r < _count && Worse(_scores[r], _ids[r], _scores[worst], _ids[worst]))
            {
                worst = r;
            }

            if (worst == i)
            {
                return;
            }

            Swap(i, worst);
            i = worst;
        }
    }

    private void Swap(int a, int b)
    {
        (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
        (_ids[a], _ids[b]) = (_ids[b], _ids[a]);
    }
}
