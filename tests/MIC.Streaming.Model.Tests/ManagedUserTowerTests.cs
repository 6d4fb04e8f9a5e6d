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
    [InlineData("comirec-dr")]
    public void RoutingEncoder_HasNoManagedTower(string encoder)
    {
        var options = ModelTestData.Options(encoder, MicVariant.Full);
        using var model = new MicModel(EncoderRegistry.Create(encoder, ModelTestData.SmallTables, options.EncoderOptions), options.Mic);
        Assert.Null(ManagedUserTower.TryCreate(model, options.EncoderOptions.MaxLen));
    }
}
