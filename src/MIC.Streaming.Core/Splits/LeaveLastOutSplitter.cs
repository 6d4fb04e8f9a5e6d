using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Splits;

/// <summary>
/// Leave-last-out (SASRec / S3-Rec style): for every user with at least 3 interactions the last item
/// is the test target (history = everything before it), the second-to-last the validation target;
/// train keeps every user's sequence without those two. Users with fewer than 3 interactions train only.
/// </summary>
public static class LeaveLastOutSplitter
{
    public static DatasetSplit Split(InteractionDataset dataset, int maxLen)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLen, 1);
        var seqs = dataset.Sequences;
        var trainLengths = new int[dataset.UserCount];
        var valid = new List<EvalCase>();
        var test = new List<EvalCase>();
        var dropped = 0;
        for (var u = 0; u < dataset.UserCount; u++)
        {
            var seq = seqs.Sequence(u);
            var n = seq.Length;
            if (n < 3)
            {
                trainLengths[u] = n;
                dropped++;
                continue;
            }

            trainLengths[u] = n - 2;
            valid.Add(new EvalCase(u, seq[Math.Max(0, n - 2 - maxLen)..(n - 2)].ToArray(), [seq[n - 2]]));
            test.Add(new EvalCase(u, seq[Math.Max(0, n - 1 - maxLen)..(n - 1)].ToArray(), [seq[n - 1]]));
        }

        return new DatasetSplit("leave-last-out", dataset, seqs.Prefixes(trainLengths), valid, test, dropped);
    }
}
