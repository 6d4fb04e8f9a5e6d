using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Tests;

/// <summary>
/// The paper's pieces our MIC lacked (reproduction item 4): hard negatives from other clusters, mined
/// user→item / item→user positives, the user id as a field and the item's interaction record.
/// </summary>
[Collection("torch")]
public class MicPiecesTests
{
    [Fact]
    public void InfoNce_WithHardNegatives_MatchesExplicitDenominators()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(21);
        var a = torch.randn(5, 4);
        var b = torch.randn(5, 4);
        var hard = torch.randn(5, 3, 4);
        var groups = InBatchGroups.Of(torch.tensor(new long[] { 0, 1, 0, 2, 3 }), 5, a.device);
        const double Tau = 0.2;

        var ntXent = CrossChannelLoss.InfoNce(a, b, Tau, groups, hard).item<float>();
        var pairwise = CrossChannelLoss.PairwiseInfoNce(a, b, Tau, groups, hard).item<float>();

        // Written out: an a-anchor's denominator holds every b_j and a_j (j ≠ i, not of its group) plus
        // its own M hard negatives; a b-anchor's is unchanged. Pairwise: the a-rows gain the M negatives.
        var ua = Rows(a);
        var ub = Rows(b);
        var uh = Enumerable.Range(0, 5).Select(i => Rows(hard[i])).ToArray();
        long[] g = [0, 1, 0, 2, 3];
        double Cos(float[] x, float[] y) => x.Zip(y, (p, q) => (double)p * q).Sum() / Tau;
        double ntA = 0, ntB = 0, pwRows = 0, pwCols = 0;
        for (var i = 0; i < 5; i++)
        {
            var pos = Cos(ua[i], ub[i]);
            var denA = Math.Exp(pos) + uh[i].Sum(n => Math.Exp(Cos(ua[i], n)));
            var denB = Math.Exp(pos);
            var rowA = Math.Exp(pos) + uh[i].Sum(n => Math.Exp(Cos(ua[i], n)));
            var colB = Math.Exp(pos);
            for (var j = 0; j < 5; j++)
            {
                if (j == i || g[j] == g[i])
                {
                    continue;
                }

                denA += Math.Exp(Cos(ua[i], ub[j])) + Math.Exp(Cos(ua[i], ua[j]));
                denB += Math.Exp(Cos(ub[i], ua[j])) + Math.Exp(Cos(ub[i], ub[j]));
                rowA += Math.Exp(Cos(ua[i], ub[j]));
                colB += Math.Exp(Cos(ua[j], ub[i]));
            }

            ntA += Math.Log(denA) - pos;
            ntB += Math.Log(denB) - pos;
            pwRows += Math.Log(rowA) - pos;
            pwCols += Math.Log(colB) - pos;
        }

        Assert.Equal((ntA + ntB) / 10, ntXent, 4);
        Assert.Equal((pwRows + pwCols) / 10, pairwise, 4);
        // The negatives are really in: without them both forms come out lower.
        Assert.True(CrossChannelLoss.InfoNce(a, b, Tau, groups).item<float>() < ntXent - 1e-3);
        Assert.True(CrossChannelLoss.PairwiseInfoNce(a, b, Tau, groups).item<float>() < pairwise - 1e-3);
    }

    [Fact]
    public void SupportSet_HardNegatives_ComeFromNearbyOtherClustersNeverTheOwn()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(5);
        // Eight planted clusters: pair p = c / 2 sits on +e0, +e1, −e0, −e1, and the two clusters of a
        // pair are tilted apart along e(4 + axis) (cosine 0.78). Cluster c's antipode is c + 4 mod 8
        // (cosine −1). Each row's pool is its 3 nearest other clusters:
        // its twin and two orthogonal ones, never its antipode.
        var centres = new float[8 * 8];
        for (var c = 0; c < 8; c++)
        {
            var axis = c / 2 % 2;
            var sign = c < 4 ? 1f : -1f;
            var tilt = c % 2 == 0 ? 0.35f : -0.35f;
            centres[(c * 8) + axis] = sign;
            centres[(c * 8) + 4 + axis] = sign * tilt;
        }

        var labels = torch.arange(8).repeat_interleave(40);
        var points = nn.functional.normalize(torch.tensor(centres, [8, 8]).index_select(0, labels) + (0.02 * torch.randn(320, 8)), dim: 1);
        using var support = new SupportSet(neighbours: 3, clusters: 8, seed: 9, hardNegatives: 12);
        support.Refresh(points);
        var clusterOf = support.ClusterOf!.data<long>().ToArray();

        var rows = torch.arange(320);
        var negatives = support.SampleHardNegatives(rows)!;
        Assert.Equal([320L, 12L, 8L], negatives.shape);
        // Map each negative vector back to its bank row to read its cluster.
        var sims = torch.einsum("bmd,nd->bmn", negatives, support.Bank);
        var negativeRows = sims.argmax(2).data<long>().ToArray();
        var twinSeen = 0;
        for (var r = 0; r < 320; r++)
        {
            var planted = r / 40;
            var twin = planted ^ 1;
            var antipode = (planted + 4) % 8;
            for (var m = 0; m < 12; m++)
            {
                var n = (int)negativeRows[(r * 12) + m];
                Assert.NotEqual(clusterOf[r], clusterOf[n]);
                Assert.NotEqual(antipode, n / 40);
                twinSeen += n / 40 == twin ? 1 : 0;
            }
        }

        Assert.True(twinSeen > 320 * 12 / 6, $"twin cluster drawn {twinSeen} times of {320 * 12}");
    }

    [Fact]
    public void CrossSupportSet_MinesTheNearestItemsOfUsersAndUsersOfItems()
    {
        using var scope = NewDisposeScope();
        // Users 0 and 1 point at items 2 and 0; items 1 and 3 point at users 1 and 0.
        var users = torch.tensor(new float[] { 0, 0, 1, 1, 0.1f, 0 }, [2, 3]);
        var items = torch.tensor(new float[] { 1, 0, 0, 0.9f, 0.3f, 0, 0, 0.2f, 1, 0.2f, 0, 0.9f }, [4, 3]);
        using var cross = new CrossSupportSet(neighbours: 1, seed: 3);
        Assert.False(cross.IsReady);

        cross.Refresh(users, items);

        Assert.Equal([2L, 0L], cross.ItemsOf(torch.tensor(new long[] { 0, 1 })).reshape(-1).data<long>().ToArray());
        Assert.Equal([1L, 1L, 0L, 0L], cross.UsersOf(torch.arange(4)).reshape(-1).data<long>().ToArray());
        var mined = cross.SampleItems(torch.tensor(new long[] { 1 }));
        Assert.True(torch.allclose(mined, nn.functional.normalize(items[0].unsqueeze(0), dim: 1), 1e-5, 1e-6));
    }

    [Fact]
    public void FeatureTables_UserIdField_OnlyForTrainUsers_AndItemRecordsHoldTrainUsers()
    {
        var split = ModelTestData.SmallSplit;
        var tables = new FeatureTables(ModelTestData.Small, split.Train, userIdField: true, itemUserSlots: 4);

        Assert.True(tables.HasUserIdField);
        Assert.Equal(ModelTestData.SmallTables.UserFieldCount + 1, tables.UserFieldCount);
        Assert.Equal(ModelTestData.Small.UserCount + 1, tables.UserFieldCardinalities[^1]);
        var f = tables.UserFieldCount;
        foreach (var c in split.Test)
        {
            Assert.Equal(0, tables.UserFieldTokens[(c.User * f) + f - 1]);
        }

        var trainUsers = Enumerable.Range(0, split.Train.UserCount).Where(u => split.Train.Length(u) > 0).ToArray();
        Assert.NotEmpty(trainUsers);
        Assert.All(trainUsers, u => Assert.Equal(u + 1, tables.UserFieldTokens[(u * f) + f - 1]));

        var recorded = 0;
        for (var item = 0; item < tables.ItemCount; item++)
        {
            var slots = tables.ItemUserTokens.AsSpan((item + 1) * 4, 4).ToArray().Where(t => t > 0).ToArray();
            Assert.Equal(slots.Length, slots.Distinct().Count());
            foreach (var token in slots)
            {
                Assert.Contains(item, split.Train.Sequence((int)token - 1).ToArray());
            }

            recorded += slots.Length;
        }

        Assert.True(recorded > tables.ItemCount, $"{recorded} recorded users over {tables.ItemCount} items");
        Assert.Throws<ArgumentException>(() => new MicTrainer(ModelTestData.SmallTables, ModelTestData.Options("dssm", MicVariant.Full) with
        {
            EncoderOptions = ModelTestData.Options("dssm", MicVariant.Full).EncoderOptions with { UserIdField = true },
        }));
    }

    [Theory]
    [InlineData("dssm")]
    [InlineData("comirec-sa")]
    public void AllPieces_Train_AndReachEveryNewTable(string encoder)
    {
        var split = ModelTestData.SmallSplit;
        var options = ModelTestData.Options(encoder, MicVariant.Full);
        options = options with
        {
            EncoderOptions = options.EncoderOptions with { UserIdField = true, ItemUserSlots = 5 },
            Mic = options.Mic with { CrossPositives = true, HardNegatives = 4, SameSideForm = ContrastiveForm.NtXent },
            MaxSteps = 12,
        };
        var tables = FeatureTables.For(ModelTestData.Small, split.Train, options.EncoderOptions);
        using var trainer = new MicTrainer(tables, options);
        var examples = new TrainingExamples(split.Train);
        int[] batch = [.. Enumerable.Range(0, 64)];
        trainer.RefreshSupportSets(split.Train);
        var before = Snapshot(trainer.Model);

        var parts = trainer.TrainStep(examples, batch, report: true)!;

        Assert.True(double.IsFinite(parts.Total) && parts.UI > 0 && parts.UU > 0 && parts.II > 0, $"{parts}");
        var after = Snapshot(trainer.Model);
        Assert.Contains(after.Keys, k => k.Contains("item_record", StringComparison.Ordinal));
        foreach (var (name, value) in after.Where(p => p.Key.Contains("item_record", StringComparison.Ordinal)
            || (encoder == "dssm" && p.Key.Contains("user_fields", StringComparison.Ordinal))))
        {
            Assert.False(value.SequenceEqual(before[name]), $"{name} did not move");
        }

        // The captured inputs hold the mined positives and hard negatives the loss used.
        var (_, inputs) = trainer.CaptureLoss(examples, batch);
        Assert.Equal([64L, 16L], inputs["ui_mined_items"].shape);
        Assert.Equal([64L, 4L, 16L], inputs["uu_hard"].shape);
        Assert.Equal([64L, 4L, 16L], inputs["ii_hard"].shape);
        foreach (var t in inputs.Values)
        {
            t.Dispose();
        }
    }

    [Fact]
    public void Pieces_AreOffByDefault_AndLeaveTheJsonOfOlderOptionsUnchanged()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new TrainOptions());
        Assert.DoesNotContain("CrossPositives", json, StringComparison.Ordinal);
        Assert.DoesNotContain("HardNegatives", json, StringComparison.Ordinal);
        Assert.DoesNotContain("UserIdField", json, StringComparison.Ordinal);
        Assert.DoesNotContain("ItemUserSlots", json, StringComparison.Ordinal);
        Assert.DoesNotContain("NeedsTrainFields", json, StringComparison.Ordinal);
        var on = new TrainOptions { Mic = new MicOptions { HardNegatives = 8 } };
        Assert.Contains("\"HardNegatives\":8", System.Text.Json.JsonSerializer.Serialize(on), StringComparison.Ordinal);
    }

    private static float[][] Rows(Tensor x)
    {
        var unit = nn.functional.normalize(x, dim: 1);
        return [.. Enumerable.Range(0, (int)unit.shape[0]).Select(i => unit[i].data<float>().ToArray())];
    }

    private static Dictionary<string, float[]> Snapshot(nn.Module module) =>
        module.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().cpu().data<float>().ToArray());
}

/// <summary>The multi-interest diversity diagnostics (reproduction item 6): interest-weight entropy.</summary>
[Collection("torch")]
public class InterestEntropyTests
{
    [Theory]
    [InlineData("comirec-sa")]
    [InlineData("comirec-dr")]
    public void InterestEntropy_IsTheNormalisedEntropyOfTheTowersWeights(string encoder)
    {
        var options = ModelTestData.Options(encoder, MicVariant.Base);
        torch.manual_seed(3);
        using var model = new MicModel(EncoderRegistry.Create(encoder, ModelTestData.SmallTables, options.EncoderOptions), options.Mic);
        var embeddings = new ModelEmbeddings(model, ModelTestData.SmallTables, options.EncoderOptions.MaxLen);
        int[][] histories = [[4], [4, 9], [1, 2, 3, 4, 5], [.. Enumerable.Range(10, 14)], [7, 7, 8]];
        int[] users = [0, 1, 2, 3, 4];

        var entropy = embeddings.InterestEntropy([.. histories.Select(h => (ReadOnlyMemory<int>)h)], users);

        // By hand from the tower's own weights.
        using var scope = NewDisposeScope();
        model.eval();
        using var noGrad = torch.no_grad();
        var batch = UserBatchBuilder.Build([.. histories.Select(h => (ReadOnlyMemory<int>)h)], users, ModelTestData.SmallTables, options.EncoderOptions.MaxLen, TorchRuntime.Device);
        var w = model.Encoder.InterestWeights(batch)!;
        var (k, l) = ((int)w.shape[1], (int)w.shape[2]);
        var data = w.data<float>().ToArray();
        double sum = 0;
        long count = 0;
        for (var u = 0; u < histories.Length; u++)
        {
            var real = Math.Min(histories[u].Length, l);
            var first = l - real; // right-aligned
            if (encoder == "comirec-dr")
            {
                for (var p = first; p < l; p++)
                {
                    sum += -Enumerable.Range(0, k).Select(i => (double)data[(((u * k) + i) * l) + p]).Where(x => x > 0).Sum(x => x * Math.Log(x)) / Math.Log(k);
                    count++;
                }
            }
            else if (real > 1)
            {
                for (var i = 0; i < k; i++)
                {
                    sum += -Enumerable.Range(first, real).Select(p => (double)data[(((u * k) + i) * l) + p]).Where(x => x > 0).Sum(x => x * Math.Log(x)) / Math.Log(real);
                    count++;
                }
            }
        }

        Assert.NotNull(entropy);
        Assert.Equal(sum / count, entropy!.Value, 4);
        Assert.InRange(entropy.Value, 0.05, 1.0001);
    }

    [Fact]
    public void InterestEntropy_IsNullForSingleInterestTowers()
    {
        var options = ModelTestData.Options("dssm", MicVariant.Base);
        using var model = new MicModel(EncoderRegistry.Create("dssm", ModelTestData.SmallTables, options.EncoderOptions), options.Mic);
        var embeddings = new ModelEmbeddings(model, ModelTestData.SmallTables, options.EncoderOptions.MaxLen);
        int[] history = [1, 2, 3];
        Assert.Null(embeddings.InterestEntropy([history], [0]));
    }
}
