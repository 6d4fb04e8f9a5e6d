using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Tests;

[Collection("torch")]
public class MicPartsTests
{
    [Fact]
    public void FieldKeepMask_MasksExactlyKFieldsPerRow()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(3);

        var keep = FieldMaskEmbedding.FieldKeepMask(200, 5, 2, torch.CPU);

        var perRow = keep.sum(1).data<float>().ToArray();
        Assert.All(perRow, s => Assert.Equal(3f, s));
        // Every field gets masked sometimes (positions are random).
        Assert.All(keep.sum(dim: 0).data<float>().ToArray(), s => Assert.InRange(s, 1f, 199f));
    }

    [Fact]
    public void FieldKeepMask_NeverMasksEveryField()
    {
        using var scope = NewDisposeScope();

        var keep = FieldMaskEmbedding.FieldKeepMask(10, 2, 5, torch.CPU);

        Assert.All(keep.sum(1).data<float>().ToArray(), s => Assert.Equal(1f, s));
    }

    [Fact]
    public void DropHistory_KeepsAtLeastOneRealItem()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(5);
        var mask = torch.tensor(new float[] { 0, 0, 1, 1, 0, 0, 0, 1 }, [2, 4]);
        var layer = new FieldMaskEmbedding(1, 0.2, 0.9);

        for (var i = 0; i < 50; i++)
        {
            var dropped = layer.DropHistory(mask);
            Assert.All(dropped.sum(1).data<float>().ToArray(), s => Assert.True(s >= 1));
            Assert.Equal(0f, (dropped * (1 - mask)).sum().item<float>()); // padding never becomes real
        }
    }

    [Fact]
    public void InfoNce_TinyBatch_MatchesHandComputedValue()
    {
        using var scope = NewDisposeScope();
        // a = (e1, e2), b = (e1, e2), τ = 1. For anchor a1: candidates b1 (cos 1, positive), b2 (0), a2 (0).
        // loss = −log(e / (e + 1 + 1)); every anchor is symmetric, so that is the mean.
        var a = torch.tensor(new float[] { 1, 0, 0, 1 }, [2, 2]);

        var loss = CrossChannelLoss.InfoNce(a, a.clone(), 1.0).item<float>();

        var expected = -Math.Log(Math.E / (Math.E + 2));
        Assert.Equal(expected, loss, 5);
    }

    [Fact]
    public void InfoNce_NonUnitInputsAndTemperature_MatchesReferenceFormula()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(9);
        var a = torch.randn(5, 3);
        var b = torch.randn(5, 3);

        var loss = CrossChannelLoss.InfoNce(a, b, 0.1).item<float>();

        // Reference: explicit [2N, 2N] NT-Xent.
        var z = nn.functional.normalize(torch.cat([a, b], 0), dim: 1);
        var sim = torch.mm(z, z.t()) / 0.1;
        sim = sim.masked_fill(torch.eye(10, dtype: ScalarType.Bool), float.NegativeInfinity);
        var targets = torch.tensor(new long[] { 5, 6, 7, 8, 9, 0, 1, 2, 3, 4 });
        var reference = nn.functional.cross_entropy(sim, targets).item<float>();
        Assert.Equal(reference, loss, 4);
    }

    [Fact]
    public void InfoNce_GroupMask_RemovesSameGroupNegatives()
    {
        using var scope = NewDisposeScope();
        var a = torch.tensor(new float[] { 1, 0, 1, 0 }, [2, 2]);
        var b = torch.tensor(new float[] { 1, 0, 1, 0 }, [2, 2]);

        var masked = CrossChannelLoss.InfoNce(a, b, 1.0, torch.tensor(new long[] { 7, 7 })).item<float>();

        Assert.Equal(0f, masked, 5); // every other candidate is the same group: only the positive remains
    }

    [Fact]
    public void InfoNce_WithGroups_MatchesExplicitTwoNMatrix()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(11);
        var a = torch.randn(6, 4);
        var b = torch.randn(6, 4);
        var groups = torch.tensor(new long[] { 3, 1, 3, 2, 1, 5 });

        var loss = CrossChannelLoss.InfoNce(a, b, 0.2, groups).item<float>();

        // Reference: [2N, 2N] NT-Xent where any two rows of the same group (other than a row and its
        // positive) are not negatives, written with masked_fill and cross_entropy.
        var z = nn.functional.normalize(torch.cat([a, b], 0), dim: 1);
        var sim = torch.mm(z, z.t()) / 0.2;
        var g2 = torch.cat([groups, groups], 0);
        var targets = torch.cat([torch.arange(6, 12), torch.arange(0, 6)], 0);
        var positive = torch.zeros(12, 12, dtype: ScalarType.Bool).scatter(1, targets.unsqueeze(1), torch.ones(12, 1, dtype: ScalarType.Bool));
        var drop = g2.unsqueeze(1).eq(g2.unsqueeze(0)).logical_and(positive.logical_not());
        var reference = nn.functional.cross_entropy(sim.masked_fill(drop, float.NegativeInfinity), targets).item<float>();
        Assert.Equal(reference, loss, 4);
    }

    [Fact]
    public void PairwiseInfoNce_AndInBatchSoftmax_MatchCrossEntropyReference()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(12);
        var a = torch.randn(7, 5);
        var b = torch.randn(7, 5);
        var groups = torch.tensor(new long[] { 4, 4, 0, 1, 2, 1, 9 });

        var pairwise = CrossChannelLoss.PairwiseInfoNce(a, b, 0.1, groups).item<float>();
        var softmax = CrossChannelLoss.InBatchSoftmax(a, b, groups, 0.1).item<float>();

        var logits = torch.mm(nn.functional.normalize(a, dim: 1), nn.functional.normalize(b, dim: 1).t()) / 0.1;
        var drop = groups.unsqueeze(1).eq(groups.unsqueeze(0)).logical_and(torch.eye(7, dtype: ScalarType.Bool).logical_not());
        var masked = logits.masked_fill(drop, float.NegativeInfinity);
        var labels = torch.arange(7);
        var rows = nn.functional.cross_entropy(masked, labels).item<float>();
        var columns = nn.functional.cross_entropy(masked.t(), labels).item<float>();
        Assert.Equal((rows + columns) / 2, pairwise, 4);
        Assert.Equal(rows, softmax, 4);
        Assert.Equal(rows, CrossChannelLoss.InBatchSoftmax(a, b, InBatchGroups.Of(groups, 7, a.device), 0.1).item<float>(), 4);
    }

    [Fact]
    public void SupportSet_ReturnsTrueNearestNeighbours()
    {
        using var scope = NewDisposeScope();
        // Rows 0,1 point almost the same way; rows 2,3 too; row 4 is alone.
        var reps = torch.tensor(new float[] { 1, 0, 0, 0.98f, 0.2f, 0, 0, 1, 0, 0.1f, 0.99f, 0, 0, 0, 1 }, [5, 3]);
        using var support = new SupportSet(neighbours: 1, clusters: 0, seed: 1);

        support.Refresh(reps);
        var nbrs = support.NeighboursOf(torch.arange(5)).reshape(-1).data<long>().ToArray();

        Assert.Equal([1L, 0L, 3L, 2L], nbrs[..4]);
        var positives = support.SamplePositives(torch.tensor(new long[] { 0, 2 }));
        var expected = nn.functional.normalize(reps.index_select(0, torch.tensor(new long[] { 1, 3 })), dim: 1);
        Assert.True(torch.allclose(positives, expected, 1e-5, 1e-6));
    }

    [Fact]
    public void SupportSet_KMeans_SeparatesPlantedClusters()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(2);
        var centres = torch.tensor(new float[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, [3, 3]);
        var labels = torch.arange(3).repeat_interleave(20);
        var points = nn.functional.normalize(centres.index_select(0, labels) + (0.05 * torch.randn(60, 3)), dim: 1);
        using var support = new SupportSet(neighbours: 3, clusters: 3, seed: 4);

        var found = support.KMeans(points, 3, 10).data<long>().ToArray();

        for (var c = 0; c < 3; c++)
        {
            Assert.Single(found.Skip(c * 20).Take(20).Distinct());
        }

        Assert.Equal(3, found.Distinct().Count());
    }

    [Fact]
    public void SupportSet_InvertedFileNeighbours_FindMostTrueNeighbours()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        // 6,000 rows around 60 directions in 16-D (a trained embedding space is clustered like this).
        var centres = nn.functional.normalize(torch.randn(60, 16), dim: 1);
        var points = nn.functional.normalize(centres.index_select(0, torch.randint(0, 60, [6000])) + (0.25 * torch.randn(6000, 16)), dim: 1);
        using var support = new SupportSet(neighbours: 10, clusters: 0, seed: 5, exactBelow: 1000, probe: 16);

        var exact = SupportSet.ExactNeighbours(points, 10).data<long>().ToArray();
        var approx = support.InvertedFileNeighbours(points, 10).data<long>().ToArray();

        var found = 0;
        for (var r = 0; r < 6000; r++)
        {
            var truth = exact.AsSpan(r * 10, 10).ToArray().ToHashSet();
            var row = approx.AsSpan(r * 10, 10).ToArray();
            Assert.DoesNotContain((long)r, row);                 // never itself
            Assert.Equal(10, row.Distinct().Count());            // k distinct rows
            found += row.Count(truth.Contains);
        }

        var recall = found / 60_000.0;
        Assert.True(recall >= 0.9, $"recall@10 of the inverted-file search vs exact: {recall:F3}");

        // Refresh takes the inverted-file path above exactBelow and keeps serving positives, and
        // reports its recall against exact neighbours on a sample of rows.
        support.Refresh(points);
        Assert.Equal([6000L, 10L], support.NeighboursOf(torch.arange(6000)).shape);
        Assert.InRange(support.NeighbourRecall!.Value, recall - 0.08, 1.0);
        Assert.True(support.NeighbourRecall < 1.0, "an approximate search on this data misses some neighbours");

        using var exactBank = new SupportSet(neighbours: 10, clusters: 0, seed: 5);
        Assert.Null(exactBank.NeighbourRecall);
        exactBank.Refresh(points.narrow(0, 0, 500));
        Assert.Equal(1.0, exactBank.NeighbourRecall);
    }

    [Fact]
    public void SampledSoftmax_MatchesCrossEntropyOverTargetAndSamples()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(8);
        var users = torch.randn(5, 4);
        var items = torch.randn(5, 4);
        var negatives = torch.randn(6, 4);
        var targetIds = torch.tensor(new long[] { 10, 11, 12, 13, 14 });
        var negativeIds = torch.tensor(new long[] { 20, 12, 21, 22, 10, 23 }); // two samples hit a target

        var loss = CrossChannelLoss.SampledSoftmax(users, items, negatives, targetIds, negativeIds, 0.1).item<float>();

        double expected = 0;
        var u = nn.functional.normalize(users, dim: 1);
        var i = nn.functional.normalize(items, dim: 1);
        var n = nn.functional.normalize(negatives, dim: 1);
        var t = targetIds.data<long>().ToArray();
        var ids = negativeIds.data<long>().ToArray();
        for (var r = 0; r < 5; r++)
        {
            var pos = (u[r] * i[r]).sum().item<float>() / 0.1;
            var terms = new List<double> { pos };
            for (var s = 0; s < 6; s++)
            {
                if (ids[s] != t[r])
                {
                    terms.Add((u[r] * n[s]).sum().item<float>() / 0.1);
                }
            }

            var max = terms.Max();
            expected += max + Math.Log(terms.Sum(x => Math.Exp(x - max))) - pos;
        }

        Assert.Equal(expected / 5, loss, 3);
    }

    [Fact]
    public void SameSideForm_Option_ChangesTheUuAndIiTerms_NtXentHasMoreNegatives()
    {
        // Same seed, same batch, only the form differs: the perturbations draw the same random
        // numbers, so the UU/II inputs are identical and NT-Xent (2(N−1) negatives) must come out
        // above the pairwise form (N−1), whose logsumexps it contains; UI and the base losses are equal.
        var split = ModelTestData.SmallSplit;
        var examples = new TrainingExamples(split.Train);
        int[] batch = [.. Enumerable.Range(0, 64)];
        var parts = new Dictionary<ContrastiveForm, LossParts>();
        foreach (var form in new[] { ContrastiveForm.Pairwise, ContrastiveForm.NtXent })
        {
            var options = ModelTestData.Options("dssm", MicVariant.Full);
            options = options with { Mic = options.Mic with { SameSideForm = form, UseSupportSet = false } };
            using var trainer = new MicTrainer(ModelTestData.SmallTables, options);
            parts[form] = trainer.TrainStep(examples, batch, report: true)!;
        }

        Assert.True(parts[ContrastiveForm.NtXent].UU > parts[ContrastiveForm.Pairwise].UU);
        Assert.True(parts[ContrastiveForm.NtXent].II > parts[ContrastiveForm.Pairwise].II);
        Assert.Equal(parts[ContrastiveForm.Pairwise].UI, parts[ContrastiveForm.NtXent].UI, 5);
        Assert.Equal(parts[ContrastiveForm.Pairwise].Logistic, parts[ContrastiveForm.NtXent].Logistic, 5);
    }

    [Fact]
    public void Objective_Options_SwitchTheSoftmaxTerm()
    {
        var split = ModelTestData.SmallSplit;
        var examples = new TrainingExamples(split.Train);
        int[] batch = [.. Enumerable.Range(0, 64)];
        LossParts Step(double softmaxWeight, int sampled)
        {
            var options = ModelTestData.Options("youtubednn", MicVariant.Base);
            options = options with { Mic = options.Mic with { SoftmaxWeight = softmaxWeight, SampledNegatives = sampled } };
            using var trainer = new MicTrainer(ModelTestData.SmallTables, options);
            return trainer.TrainStep(examples, batch, report: true)!;
        }

        var logisticOnly = Step(0, 0);
        var inBatch = Step(1, 0);
        var sampled = Step(1, 100);
        Assert.Equal(0, logisticOnly.Softmax);
        Assert.Equal(logisticOnly.Total, logisticOnly.Logistic, 5);
        Assert.True(inBatch.Softmax > 0);
        // 100 catalogue negatives (of 120 items) against 63 in-batch ones: a harder softmax at initialisation.
        Assert.True(sampled.Softmax > inBatch.Softmax, $"sampled {sampled.Softmax} vs in-batch {inBatch.Softmax}");
        Assert.Equal(inBatch.Logistic, sampled.Logistic, 5);
    }
}
