using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Evaluation;
using MIC.Streaming.Model.Baselines;

namespace MIC.Streaming.Model.Tests;

[Collection("torch")]
public class EaseRTests
{
    [Fact]
    public void Scores_EqualTheClosedFormComputedByHand()
    {
        // 5 users over 6 items (item 5 never seen: a zero row in the Gram matrix).
        int[][] users = [[0, 1, 2], [1, 2], [0, 3], [3, 4, 4], [2, 4, 1]];
        var train = Table(users);
        const int n = 6;
        const double lambda = 2.5;
        var ease = new EaseR(lambda);
        ease.Fit(train, n);

        // G = XᵀX + λI over distinct items per user; P = G⁻¹; B_ij = −P_ij / P_jj, B_jj = 0.
        var g = new double[n, n];
        foreach (var u in users)
        {
            var d = u.Distinct().ToArray();
            foreach (var a in d)
            {
                foreach (var b in d)
                {
                    g[a, b] += 1;
                }
            }
        }

        for (var i = 0; i < n; i++)
        {
            g[i, i] += lambda;
        }

        var p = Invert(g);
        int[] history = [0, 4, 4];
        var items = new int[n];
        var scores = new float[n];
        var got = ease.Recommend(history, items, scores);
        Assert.Equal(n, got);
        for (var r = 0; r < n; r++)
        {
            var j = items[r];
            var expected = 0.0;
            foreach (var h in new[] { 0, 4 })
            {
                expected += h == j ? 0 : -p[h, j] / p[j, j];
            }

            Assert.Equal(expected, scores[r], 4);
        }

        Assert.True(scores.Zip(scores.Skip(1)).All(s => s.First >= s.Second), "best first");
    }

    [Fact]
    public void Spec_IsTunedOnValidation_AndBeatsMostPopOnPlantedData()
    {
        Recommenders.Register(EaseR.Spec);
        var split = ModelTestData.SmallSplit;
        var tuned = BaselineTuning.Run(Recommenders.Spec("ease"), split);
        Assert.Equal(EaseR.Spec.Grid.Count, tuned.Trials.Count);
        Assert.Equal(tuned.Trials.MaxBy(t => t.Score)!.Value, tuned.Value);
        var mostPop = Evaluator.Evaluate(new MostPop(), split);
        Assert.True(tuned.Result.Metrics["Recall@20"] > mostPop.Metrics["Recall@20"], $"EASE {tuned.Result.Metrics["Recall@20"]:F3} vs MostPop {mostPop.Metrics["Recall@20"]:F3}");
        Assert.Throws<ArgumentOutOfRangeException>(() => new EaseR(0));
        Assert.NotNull(Recommenders.Spec("ease").Check("-1"));
        Assert.Null(Recommenders.Spec("ease").Check("500"));
    }

    private static SequenceTable Table(int[][] sequences)
    {
        var offsets = new int[sequences.Length + 1];
        for (var i = 0; i < sequences.Length; i++)
        {
            offsets[i + 1] = offsets[i] + sequences[i].Length;
        }

        var items = sequences.SelectMany(s => s).ToArray();
        return new SequenceTable(offsets, items, new long[items.Length]);
    }

    private static double[,] Invert(double[,] m)
    {
        var n = m.GetLength(0);
        var a = (double[,])m.Clone();
        var inv = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            inv[i, i] = 1;
        }

        for (var c = 0; c < n; c++)
        {
            var pivot = a[c, c];
            for (var j = 0; j < n; j++)
            {
                a[c, j] /= pivot;
                inv[c, j] /= pivot;
            }

            for (var r = 0; r < n; r++)
            {
                if (r != c)
                {
                    var f = a[r, c];
                    for (var j = 0; j < n; j++)
                    {
                        a[r, j] -= f * a[c, j];
                        inv[r, j] -= f * inv[c, j];
                    }
                }
            }
        }

        return inv;
    }
}
