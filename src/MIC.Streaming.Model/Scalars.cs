using System.Collections.Concurrent;
using TorchSharp;

namespace MIC.Streaming.Model;

/// <summary>
/// The constants the model passes to libtorch as Scalars, one per distinct value, alive for the
/// process. A number passed where TorchSharp takes a <see cref="Scalar"/> becomes a temporary whose
/// finalizer frees the native value, and nothing keeps it alive during the native call: a garbage
/// collection in between frees it while the kernel reads it ("Expected false to be true … toFloat").
/// Measured: 158 failures in 3.6 million <c>x.mul(0.5)</c> calls with a thread collecting; none with
/// a held Scalar (<c>ScalarsTests</c>). Use these for constants (literals, options); a value that
/// changes per call gets a <c>using</c> Scalar of its own instead (the cache would grow without bound).
/// </summary>
public static class Scalars
{
    private static readonly ConcurrentDictionary<double, Scalar> Reals = new();
    private static readonly ConcurrentDictionary<long, Scalar> Integers = new();

    /// <summary>A floating-point Scalar (a tensor keeps its dtype when it is float; an integer tensor is promoted).</summary>
    public static Scalar Of(double value) => Reals.GetOrAdd(value, v => v.ToScalar());

    /// <summary>An integer Scalar (an integer tensor stays integer).</summary>
    public static Scalar Of(long value) => Integers.GetOrAdd(value, v => v.ToScalar());

    public static Scalar Zero => Of(0L);

    public static Scalar One => Of(1L);

    public static Scalar Two => Of(2L);

    /// <summary>−∞, what masked logits are filled with.</summary>
    public static Scalar NegativeInfinity => Of(double.NegativeInfinity);

    /// <summary><c>torch.arange(start, stop)</c> as int64 with every Scalar held across the native call (its two-argument overload converts the step implicitly).</summary>
    public static torch.Tensor Range(long start, long stop, torch.Device? device = null)
    {
        using var from = start.ToScalar();
        using var to = stop.ToScalar();
        return torch.arange(from, to, One, torch.ScalarType.Int64, device);
    }
}
