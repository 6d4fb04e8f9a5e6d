using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Training;

/// <summary>
/// Adam (Kingma and Ba), op for op the update of TorchSharp's <c>torch.optim.Adam</c> without weight
/// decay or AMSGrad (so the same weights to the bit), with every <see cref="Scalar"/> held by a
/// variable until its native call has returned.
/// <para>
/// Why not TorchSharp's: it passes scalars converted implicitly from doubles (1 − β₁, 1 − β₂, the bias
/// corrections, ε). A <see cref="Scalar"/> is not tracked by dispose scopes and has a finalizer, and
/// once its handle is read the converted temporary is unreachable: a garbage collection during the
/// native call can free the scalar the kernel is about to read. The test suite saw it once, with three
/// threads querying silos while a model trained: "Expected false to be true … toFloat" from
/// <c>addcmul_</c>. A live trainer steps beside a serving silo, whose allocations make such
/// collections frequent; it steps ~5 scalars × parameters per update, the most of any code path.
/// </para>
/// </summary>
public sealed class AdamOptimizer : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor?[] _expAvg;
    private readonly Tensor?[] _expAvgSq;
    private readonly double _lr, _beta1, _beta2;
    private readonly Scalar _beta1Scalar, _beta2Scalar, _oneMinusBeta1, _oneMinusBeta2, _eps;
    private long _step;

    public AdamOptimizer(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegative(lr);
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(beta1), $"β₁ and β₂ must be in [0, 1) (got {beta1}, {beta2}).");
        }

        _parameters = parameters.ToArray();
        _expAvg = new Tensor?[_parameters.Length];
        _expAvgSq = new Tensor?[_parameters.Length];
        (_lr, _beta1, _beta2) = (lr, beta1, beta2);
        _beta1Scalar = beta1.ToScalar();
        _beta2Scalar = beta2.ToScalar();
        _oneMinusBeta1 = (1 - beta1).ToScalar();
        _oneMinusBeta2 = (1 - beta2).ToScalar();
        _eps = eps.ToScalar();
    }

    /// <summary>Steps taken (the bias corrections' exponent).</summary>
    public long Steps => _step;

    /// <summary>Zeroes every parameter's gradient in place (as <c>Optimizer.zero_grad()</c> does).</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters)
        {
            using var grad = p.grad;
            _ = grad?.zero_();
        }
    }

    /// <summary>One update of every parameter that has a gradient.</summary>
    public void Step()
    {
        _step++;
        var biasCorrection1 = 1 - Math.Pow(_beta1, _step);
        var biasCorrection2 = 1 - Math.Pow(_beta2, _step);
        using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var negativeStepSize = (-(_lr / biasCorrection1)).ToScalar();
        using var noGrad = torch.no_grad();
        for (var i = 0; i < _parameters.Length; i++)
        {
            var param = _parameters[i];
            using var grad = param.grad;
            if (grad is null)
            {
                continue;
            }

            var expAvg = _expAvg[i] ??= torch.zeros_like(param).DetachFromDisposeScope();
            var expAvgSq = _expAvgSq[i] ??= torch.zeros_like(param).DetachFromDisposeScope();
            expAvg.mul_(_beta1Scalar).add_(grad, alpha: _oneMinusBeta1);
            expAvgSq.mul_(_beta2Scalar).addcmul_(grad, grad, value: _oneMinusBeta2);
            using var root = expAvgSq.sqrt();
            using var denom = root.div(sqrtBiasCorrection2).add_(_eps);
            param.addcdiv_(expAvg, denom, value: negativeStepSize);
        }

        // The scalars above are fields or `using` variables: alive until here, whatever the JIT decides.
        GC.KeepAlive(this);
    }

    /// <summary>
    /// The moments of every parameter that has them (<c>{prefix}m/{i}</c>, <c>{prefix}v/{i}</c>, i the
    /// parameter's position) and the step count, for a resumable run. Views of the live state: write them
    /// out before the next <see cref="Step"/>.
    /// </summary>
    public (long Steps, List<KeyValuePair<string, Tensor>> Moments) ExportState(string prefix)
    {
        var moments = new List<KeyValuePair<string, Tensor>>();
        for (var i = 0; i < _parameters.Length; i++)
        {
            if (_expAvg[i] is { } m && _expAvgSq[i] is { } v)
            {
                moments.Add(new($"{prefix}m/{i}", m));
                moments.Add(new($"{prefix}v/{i}", v));
            }
        }

        return (_step, moments);
    }

    /// <summary>Restores what <see cref="ExportState"/> wrote (copied onto the parameters' devices); parameters without moments there start from zero as usual.</summary>
    public void ImportState(long steps, IReadOnlyDictionary<string, Tensor> tensors, string prefix)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        for (var i = 0; i < _parameters.Length; i++)
        {
            _expAvg[i]?.Dispose();
            _expAvgSq[i]?.Dispose();
            (_expAvg[i], _expAvgSq[i]) = (null, null);
            if (tensors.TryGetValue($"{prefix}m/{i}", out var m) && tensors.TryGetValue($"{prefix}v/{i}", out var v))
            {
                if (!m.shape.SequenceEqual(_parameters[i].shape) || !v.shape.SequenceEqual(_parameters[i].shape))
                {
                    throw new InvalidDataException($"Adam moments of parameter {i} have shape [{string.Join(", ", m.shape)}], the parameter [{string.Join(", ", _parameters[i].shape)}].");
                }

                _expAvg[i] = m.to(_parameters[i].device).clone().DetachFromDisposeScope();
                _expAvgSq[i] = v.to(_parameters[i].device).clone().DetachFromDisposeScope();
            }
        }

        _step = steps;
    }

    public void Dispose()
    {
        foreach (var t in _expAvg.Concat(_expAvgSq))
        {
            t?.Dispose();
        }

        _beta1Scalar.Dispose();
        _beta2Scalar.Dispose();
        _oneMinusBeta1.Dispose();
        _oneMinusBeta2.Dispose();
        _eps.Dispose();
    }
}
