namespace MIC.Streaming.Core.Metrics;

/// <summary>Per-user averages of <see cref="UserMetrics"/> at several cut-offs. Not thread-safe: merge per-thread copies.</summary>
public sealed class MetricsAccumulator
{
    private readonly double[,] _sums;

    public MetricsAccumulator(IReadOnlyList<int> cutoffs)
    {
        ArgumentNullException.ThrowIfNull(cutoffs);
        Cutoffs = [.. cutoffs];
        _sums = new double[Cutoffs.Length, 5];
    }

    public int[] Cutoffs { get; }

    public int Users { get; private set; }

    public void Add(ReadOnlySpan<int> ranked, ReadOnlySpan<int> targets)
    {
        for (var c = 0; c < Cutoffs.Length; c++)
        {
            var m = RankingMetrics.Compute(ranked, targets, Cutoffs[c]);
            _sums[c, 0] += m.Recall;
            _sums[c, 1] += m.Ndcg;
            _sums[c, 2] += m.HitRate;
            _sums[c, 3] += m.RecallComiRec;
            _sums[c, 4] += m.NdcgComiRec;
        }

        Users++;
    }

    public void Merge(MetricsAccumulator other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var c = 0; c < Cutoffs.Length; c++)
        {
            for (var k = 0; k < 5; k++)
            {
                _sums[c, k] += other._sums[c, k];
            }
        }

        Users += other.Users;
    }

    /// <summary>Metric name (e.g. <c>Recall@20</c>, <c>NDCG(ComiRec)@50</c>) → per-user mean.</summary>
    public IReadOnlyDictionary<string, double> Means()
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        string[] names = ["Recall", "NDCG", "HitRate", "Recall(ComiRec)", "NDCG(ComiRec)"];
        for (var c = 0; c < Cutoffs.Length; c++)
        {
            for (var k = 0; k < names.Length; k++)
            {
                result[$"{names[k]}@{Cutoffs[c]}"] = Users == 0 ? 0 : _sums[c, k] / Users;
            }
        }

        return result;
    }
}
