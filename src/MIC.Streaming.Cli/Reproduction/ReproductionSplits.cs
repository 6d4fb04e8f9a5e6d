using MIC.Streaming.Core.Splits;

namespace MIC.Streaming.Cli.Reproduction;

/// <summary>
/// The split each run is trained and scored on: the reproduction's one split, except for a run whose
/// model reads longer (or shorter) histories than the split's cut (the max-len lever). Such a run gets
/// the same users and targets with the evaluation histories cut at its own max-len, made once per
/// length, so a longer history is something its test users actually show the model.
/// </summary>
public sealed class ReproductionSplits
{
    private readonly Dictionary<int, DatasetSplit> _byMaxLen;
    private readonly Func<int, DatasetSplit> _make;

    /// <param name="split">The split made with the reproduction's --max-len.</param>
    /// <param name="maxLen">That --max-len.</param>
    /// <param name="make">Makes the same split with evaluation histories cut at another length.</param>
    public ReproductionSplits(DatasetSplit split, int maxLen, Func<int, DatasetSplit> make)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(make);
        _byMaxLen = new Dictionary<int, DatasetSplit> { [maxLen] = split };
        _make = make;
    }

    public DatasetSplit For(ReproductionRunSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var maxLen = spec.Options.EncoderOptions.MaxLen;
        if (!_byMaxLen.TryGetValue(maxLen, out var split))
        {
            split = _make(maxLen);
            _byMaxLen[maxLen] = split;
        }

        return split;
    }
}
