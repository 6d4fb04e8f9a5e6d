namespace MIC.Streaming.Core.Metrics;

/// <summary>A fixed-size ring of recent samples for percentiles in-process (thread-safe).</summary>
public sealed class LatencyRing(int capacity)
{
    private readonly double[] _samples = new double[capacity];
    private readonly Lock _gate = new();
    private long _count;

    public void Add(double value)
    {
        lock (_gate)
        {
            _samples[_count % _samples.Length] = value;
            _count++;
        }
    }

    public long Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>Percentile (0–100) over the retained samples; NaN when empty.</summary>
    public double Percentile(double p)
    {
        double[] copy;
        lock (_gate)
        {
            copy = _samples[..(int)Math.Min(_count, _samples.Length)];
        }

        if (copy.Length == 0)
        {
            return double.NaN;
        }

        Array.Sort(copy);
        var rank = (int)Math.Ceiling(p / 100 * copy.Length) - 1;
        return copy[Math.Clamp(rank, 0, copy.Length - 1)];
    }

    public void Clear()
    {
        lock (_gate)
        {
            _count = 0;
        }
    }
}
