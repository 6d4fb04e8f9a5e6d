using System.Globalization;
using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Baselines;

/// <summary>
/// EASE^R (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): a closed-form
/// item–item ridge regression with a zero diagonal, the strong linear floor for item retrieval.
/// With X the binary train user × item matrix and G = XᵀX + λI, P = G⁻¹ and
/// B = I − P·diag(1/diag(P)) (so B[i,j] = −P[i,j]/P[j,j], B[j,j] = 0). A user's score for item j is
/// Σ over the distinct visible history items h of B[h,j]. The inverse is dense n×n through
/// TorchSharp's Cholesky in float32 (on Beauty, float64 gave the same metrics to six decimals in 1.6×
/// the time); at most ~4 n² floats are alive while fitting (6.4 GB at 20k items).
/// </summary>
public sealed class EaseR : IRecommender
{
    /// <summary>Refuse catalogues whose dense inverse would not fit a workstation.</summary>
    public const int MaxItems = 30_000;

    private readonly MostPop _fallback = new();
    private float[] _b = [];
    private int _n;

    public EaseR(double lambda = 200)
    {
        Lambda = lambda > 0 && double.IsFinite(lambda) ? lambda : throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "λ must be a positive number.");
    }

    /// <summary>The registry entry: λ is tuned over this grid on validation users.</summary>
    public static BaselineSpec Spec { get; } = new(
        "ease",
        "lambda",
        ["50", "100", "200", "500", "1000", "2000"],
        "200",
        v => new EaseR(double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var l) ? l : throw new FormatException($"'{v}' is not a number.")));

    public string Name => "EASE";

    public double Lambda { get; }

    public void Fit(SequenceTable train, int itemCount, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (itemCount > MaxItems)
        {
            throw new BaselineNotApplicableException($"EASE needs a dense {itemCount}×{itemCount} inverse ({(double)itemCount * itemCount * 16 / (1L << 30):F0} GiB while fitting); it is offered up to {MaxItems:N0} items.");
        }

        _fallback.Fit(train, itemCount, cancellationToken);
        _n = itemCount;
        var gram = new float[(long)itemCount * itemCount];
        var distinct = new List<int>();
        var seen = new HashSet<int>();
        for (var u = 0; u < train.UserCount; u++)
        {
            distinct.Clear();
            seen.Clear();
            foreach (var item in train.Sequence(u))
            {
                if ((uint)item < (uint)itemCount && seen.Add(item))
                {
                    distinct.Add(item);
                }
            }

            foreach (var a in distinct)
            {
                var row = (long)a * itemCount;
                foreach (var b in distinct)
                {
                    gram[row + b] += 1;
                }
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        using (NewDisposeScope())
        {
            var g = tensor(gram, [itemCount, itemCount], ScalarType.Float32);
            gram = [];
            g.diagonal().add_(Scalars.Of(Lambda));
            var l = linalg.cholesky(g);
            g.Dispose();
            var p = cholesky_inverse(l);
            l.Dispose();
            var d = p.diagonal().clone();
            p.div_(d.unsqueeze(0)).neg_();
            p.diagonal().zero_();
            _b = p.data<float>().ToArray();
        }
    }

    public int Recommend(ReadOnlySpan<int> history, Span<int> items, Span<float> scores)
    {
        if (_n == 0)
        {
            throw new InvalidOperationException("Call Fit first.");
        }

        var acc = new float[_n];
        var used = new HashSet<int>();
        foreach (var h in history)
        {
            if ((uint)h < (uint)_n && used.Add(h))
            {
                System.Numerics.Tensors.TensorPrimitives.Add(acc, _b.AsSpan(h * _n, _n), acc);
            }
        }

        if (used.Count == 0)
        {
            return _fallback.Recommend(history, items, scores);
        }

        var top = new TopKSelector(Math.Min(items.Length, _n));
        for (var j = 0; j < _n; j++)
        {
            top.Add(j, acc[j]);
        }

        return top.Drain(items, scores);
    }
}
