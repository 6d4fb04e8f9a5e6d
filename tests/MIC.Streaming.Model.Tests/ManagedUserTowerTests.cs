using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Mic;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Tests;

/// <summary>The managed one-user tower equals the libtorch tower it stands in for.</summary>
[Collection("torch")]
public class ManagedUserTowerTests
{
    [Theory]
    [InlineData("dssm", MicVariant.Base)]
    [InlineData("dssm", MicVariant.Full)]
    [InlineData("youtubednn", MicVariant.Base)]
    [InlineData("youtubednn", MicVariant.Full)]
    [InlineData("comirec-sa", MicVariant.Base)]
    [InlineData("comirec-sa", MicVariant.Full)]
    [InlineData("comirec-dr", MicVariant.Base)]
    [InlineData("comirec-dr", MicVariant.Full)]
    public void OneUser_EqualsTheLibtorchTower(string encoder, MicVariant variant)
    {
        manual_seed(11);
        var options = ModelTestData.Options(encoder, variant);
        using var model = new MicModel(EncoderRegistry.Create(encoder, ModelTestData.SmallTables, options.EncoderOptions), options.Mic);
        var embeddings = new ModelEmbeddings(model, ModelTestData.SmallTables, options.EncoderOptions.MaxLen);
        Assert.NotNull(ManagedUserTower.TryCreate(model, options.EncoderOptions.MaxLen));
        Assert.True(ModelTestData.SmallTables.UserFieldCount > 0 && ModelTestData.SmallTables.CategoryCount > 0 && ModelTestData.SmallTables.AttributeSlots > 0);
        Assert.Equal(model.Encoder.Interests, ManagedUserTower.TryCreate(model, options.EncoderOptions.MaxLen)!.Interests);

        // Histories shorter and longer than MaxLen (10), with ids the model does not know (padding),
        // for known users (with fields) and unknown ones (-1: field tokens 0).
        var rng = new Random(5);
        var items = ModelTestData.SmallTables.ItemCount;
        var histories = Enumerable.Range(0, ModelEmbeddings.ManagedBatchLimit + 8)
            .Select(i => (ReadOnlyMemory<int>)Enumerable.Range(0, 1 + (i % 15)).Select(_ => rng.Next(items + 3)).ToArray()).ToArray();
        var users = Enumerable.Range(0, histories.Length).Select(i => i % 4 == 3 ? -1 : i * 7).ToArray();

        var batched = embeddings.Encode(histories, users); // more than ManagedBatchLimit users: libtorch
        for (var i = 0; i < histories.Length; i++)
        {
            var one = embeddings.Encode([histories[i]], [users[i]])[0]; // one user: managed
            Assert.Equal(batched[i].History, one.History);
            Assert.Equal(batched[i].UserIndex, one.UserIndex);
            Assert.Equal(batched[i].OwnInterests.Length, one.OwnInterests.Length);
            for (var k = 0; k < one.OwnInterests.Length; k++)
            {
                for (var j = 0; j < options.EncoderOptions.Dimension; j++)
                {
                    Assert.Equal(batched[i].OwnInterests[k][j], one.OwnInterests[k][j], 1e-4f);
                    Assert.Equal(batched[i].RelevanceInterests[k][j], one.RelevanceInterests[k][j], 1e-4f);
                }
            }
        }

        Assert.Equal(model.UsesSharedSpace, !batched[0].OwnInterests[0].SequenceEqual(batched[0].RelevanceInterests[0]));
    }

    [Theory]
    [InlineData("dssm")]
    [InlineData("comirec-sa")]
    public void ServeOwnSpace_BypassesTheTrainedHeads_ForItemsAndUsers_BothTowers(string encoder)
    {
        manual_seed(11);
        var options = ModelTestData.Options(encoder, MicVariant.Full);
        using var model = new MicModel(EncoderRegistry.Create(encoder, ModelTestData.SmallTables, options.EncoderOptions), options.Mic);
        var maxLen = options.EncoderOptions.MaxLen;
        // More users than the managed tower takes at once, so the batch goes through libtorch.
        var histories = Enumerable.Range(0, ModelEmbeddings.ManagedBatchLimit + 2).Select(i => (ReadOnlyMemory<int>)new[] { 1 + (i % 7), 2 + (i % 5), 3 }).ToArray();
        var users = Enumerable.Range(0, histories.Length).Select(i => i % 2 == 0 ? i : -1).ToArray();

        var shared = new ModelEmbeddings(model, ModelTestData.SmallTables, maxLen);
        var (ownItems, relevanceItems) = shared.Items();
        Assert.True(model.TrainsSharedSpace && model.UsesSharedSpace);
        Assert.False(ownItems.Data.SequenceEqual(relevanceItems.Data));
        var asTrained = shared.Encode([histories[0]], [users[0]])[0];
        Assert.False(asTrained.OwnInterests[0].SequenceEqual(asTrained.RelevanceInterests[0]));

        model.ServeOwnSpace = true;
        Assert.True(model.TrainsSharedSpace);
        Assert.False(model.UsesSharedSpace);
        var own = new ModelEmbeddings(model, ModelTestData.SmallTables, maxLen);
        var (ownItems2, relevanceItems2) = own.Items();
        Assert.Equal(ownItems.Data, ownItems2.Data);       // the own space is the same
        Assert.Equal(ownItems2.Data, relevanceItems2.Data); // and now serves relevance too
        var one = own.Encode([histories[0]], [users[0]]);  // managed tower
        var batch = own.Encode(histories, users);           // libtorch tower
        foreach (var q in one.Concat(batch))
        {
            for (var k = 0; k < q.OwnInterests.Length; k++)
            {
                Assert.Equal(q.OwnInterests[k], q.RelevanceInterests[k]);
            }
        }
    }

    [Theory]
    [InlineData(MicVariant.Base)]
    [InlineData(MicVariant.Full)]
    public void RoutingTower_FromTheSameInitialLogits_EqualsTheLibtorchTower(MicVariant variant)
    {
        manual_seed(11);
        var defaults = ModelTestData.Options("comirec-dr", variant);
        var options = defaults with { EncoderOptions = defaults.EncoderOptions with { RandomRoutingStart = true } };
        var maxLen = options.EncoderOptions.MaxLen;
        using var model = new MicModel(EncoderRegistry.Create("comirec-dr", ModelTestData.SmallTables, options.EncoderOptions), options.Mic);
        var embeddings = new ModelEmbeddings(model, ModelTestData.SmallTables, maxLen);
        var tower = ManagedUserTower.TryCreate(model, maxLen);
        Assert.NotNull(tower);
        var k = model.Encoder.Interests;
        Assert.True(k > 1);
        Assert.Equal(0, tower.UserFieldCount);
        Assert.Equal(k * maxLen, tower.RoutingLogitCount);

        var rng = new Random(5);
        var items = ModelTestData.SmallTables.ItemCount;
        var histories = Enumerable.Range(0, ModelEmbeddings.ManagedBatchLimit + 8)
            .Select(i => (ReadOnlyMemory<int>)Enumerable.Range(0, 1 + (i % 15)).Select(_ => rng.Next(items + 3)).ToArray()).ToArray();
        var users = Enumerable.Range(0, histories.Length).Select(i => i % 4 == 3 ? -1 : i * 7).ToArray();

        // The libtorch tower draws its initial routing logits as randn(B, K, maxLen): the same seed
        // gives the managed tower the same logits, user by user.
        manual_seed(23);
        var batched = embeddings.Encode(histories, users);
        manual_seed(23);
        using var drawn = randn(histories.Length, k, maxLen);
        var logits = drawn.data<float>().ToArray();

        var d = options.EncoderOptions.Dimension;
        var own = new float[k * d];
        var rel = new float[k * d];
        for (var i = 0; i < histories.Length; i++)
        {
            tower.Encode(histories[i].Span, [], own, rel, logits.AsSpan(i * k * maxLen, k * maxLen));
            for (var j = 0; j < k; j++)
            {
                for (var x = 0; x < d; x++)
                {
                    Assert.Equal(batched[i].OwnInterests[j][x], own[(j * d) + x], 1e-4f);
                    Assert.Equal(batched[i].RelevanceInterests[j][x], rel[(j * d) + x], 1e-4f);
                }
            }
        }

        // Without given logits it draws its own: a different routing start moves the capsules, but
        // for one user only through the coupling weights (same history, same mapped vectors).
        var again = embeddings.Encode([histories[5]], [users[5]])[0];
        Assert.Equal(k, again.OwnInterests.Length);
        Assert.All(again.OwnInterests, v => Assert.InRange(Math.Sqrt(v.Sum(x => (double)x * x)), 0, 1)); // squashed: |v| < 1
    }

    [Fact]
    public void ComiRecDR_ZeroStart_IsDeterministic_RandomStartIsNot()
    {
        foreach (var random in new[] { false, true })
        {
            manual_seed(11);
            var defaults = ModelTestData.Options("comirec-dr", MicVariant.Base);
            var options = defaults with { EncoderOptions = defaults.EncoderOptions with { RandomRoutingStart = random } };
            using var model = new MicModel(EncoderRegistry.Create("comirec-dr", ModelTestData.SmallTables, options.EncoderOptions), options.Mic);
            var embeddings = new ModelEmbeddings(model, ModelTestData.SmallTables, options.EncoderOptions.MaxLen);
            var histories = Enumerable.Range(0, ModelEmbeddings.ManagedBatchLimit + 4).Select(i => (ReadOnlyMemory<int>)new[] { i % 7, (i + 3) % 11, (i + 5) % 13, 2 }).ToArray();
            var users = Enumerable.Range(0, histories.Length).ToArray();
            var first = embeddings.Encode(histories, users);   // libtorch (batched)
            var second = embeddings.Encode(histories, users);
            var one = embeddings.Encode([histories[0]], [users[0]])[0]; // managed (one user)
            var same = first.Zip(second).All(p => p.First.OwnInterests.Zip(p.Second.OwnInterests).All(v => v.First.SequenceEqual(v.Second)));
            Assert.Equal(!random, same);
            var managedSame = one.OwnInterests.Zip(first[0].OwnInterests).All(v => v.First.Zip(v.Second).All(x => Math.Abs(x.First - x.Second) < 1e-4f));
            Assert.Equal(!random, managedSame);
        }
    }
}
