using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Splits;

/// <summary>
/// The ComiRec protocol (Cen et al., KDD 2020; THUDM/ComiRec <c>preprocess/data.py</c> and
/// <c>src/data_iterator.py</c>), also used by MIC: users are shuffled with a seed and split 80/10/10
/// into train/valid/test <em>by user</em>. A valid/test user's visible history is the first 80 % of
/// the sequence (k = ⌊0.8·n⌋), truncated to its last <c>maxLen</c> items; the targets are the rest.
/// Train users keep their whole sequence; no valid/test user contributes anything to train.
/// </summary>
public static class ComiRecSplitter
{
    public static DatasetSplit Split(InteractionDataset dataset, int seed, int maxLen, double trainFraction = 0.8, double validFraction = 0.1, double historyFraction = 0.8)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLen, 1);
        if (trainFraction <= 0 || validFraction < 0 || trainFraction + validFraction >= 1)
        {
            throw new ArgumentException("Fractions must satisfy 0 < train, 0 <= valid, train + valid < 1.");
        }

        var users = Enumerable.Range(0, dataset.UserCount).ToArray();
        Shuffle(users, seed);
        var trainEnd = (int)(users.Length * trainFraction);
        var validEnd = (int)(users.Length * (trainFraction + validFraction));

        var seqs = dataset.Sequences;
        var trainLengths = new int[dataset.UserCount];
        for (var i = 0; i < trainEnd; i++)
        {
            trainLengths[users[i]] = seqs.Length(users[i]);
        }

        var dropped = 0;
        var valid = Cases(users.AsSpan(trainEnd, validEnd - trainEnd), seqs, maxLen, historyFraction, ref dropped);
        var test = Cases(users.AsSpan(validEnd), seqs, maxLen, historyFraction, ref dropped);
        return new DatasetSplit("comirec", dataset, seqs.Prefixes(trainLengths), valid, test, dropped);
    }

    private static List<EvalCase> Cases(ReadOnlySpan<int> users, SequenceTable seqs, int maxLen, double historyFraction, ref int dropped)
    {
        var cases = new List<EvalCase>(users.Length);
        foreach (var u in users)
        {
            var seq = seqs.Sequence(u);
            var k = (int)(seq.Length * historyFraction);
            if (k == 0 || k == seq.Length)
            {
                dropped++; // nothing to see or nothing to predict
                continue;
            }

            var start = Math.Max(0, k - maxLen);
            cases.Add(new EvalCase(u, seq[start..k].ToArray(), seq[k..].ToArray()));
        }

        return cases;
    }

    /// <summary>Fisher–Yates with the seeded legacy <see cref="Random"/> algorithm (stable across .NET versions).</summary>
    internal static void Shuffle(int[] values, int seed)
    {
        var rng = new Random(seed);
        for (var i = values.Length - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
