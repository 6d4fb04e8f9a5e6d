using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Tests;

[Collection("torch")]
public class EncoderTests
{
    public static TheoryData<string> Encoders => new(EncoderRegistry.Names);

    private static UserBatch Batch(int b) => UserBatchBuilder.Build(
        Enumerable.Range(0, b).Select(i => (ReadOnlyMemory<int>)Enumerable.Range(i, 1 + (i % 12)).ToArray()).ToArray(),
        Enumerable.Range(0, b).ToArray(),
        ModelTestData.SmallTables,
        10,
        TorchRuntime.Device);

    [Theory]
    [MemberData(nameof(Encoders))]
    public void EncodeUserAndItem_Shapes(string name)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(1);
        using var encoder = EncoderRegistry.Create(name, ModelTestData.SmallTables, new EncoderOptions { Dimension = 16, Hidden = 32, Interests = 3, MaxLen = 10 });

        var user = encoder.EncodeUser(Batch(5));
        var item = encoder.EncodeItem(torch.tensor(new long[] { 1, 2, 3, 4 }));

        Assert.Equal([5L, encoder.Interests, 16L], user.shape);
        Assert.Equal([4L, 16L], item.shape);
        Assert.False(user.isnan().any().item<bool>());
    }

    [Theory]
    [MemberData(nameof(Encoders))]
    public void Loss_FullMic_GradientsReachEveryTowerAndHead(string name)
    {
        using var trainer = new MicTrainer(ModelTestData.SmallTables, ModelTestData.Options(name, MicVariant.Full));
        var split = ModelTestData.SmallSplit;
        var examples = new TrainingExamples(split.Train);
        trainer.RefreshSupportSets(split.Train);
        using var scope = NewDisposeScope();
        var batch = Enumerable.Range(0, 32).ToArray();

        trainer.Model.train();
        var (loss, parts) = trainer.Model.Loss(BuildBatch(examples, batch), null, null);
        loss.backward();

        Assert.All(parts, p => Assert.True(p.item<float>() > 0));
        foreach (var (paramName, p) in trainer.Model.named_parameters())
        {
            Assert.True(p.grad is not null, $"{paramName} got no gradient");
            Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{paramName} has an all-zero gradient");
        }
    }

    private static TrainBatch BuildBatch(TrainingExamples examples, int[] ids)
    {
        var histories = ids.Select(e => examples.HistoryOf(e, 10)).ToArray();
        var users = ids.Select(e => examples.Users[e]).ToArray();
        var targets = torch.tensor(ids.Select(e => (long)examples.TargetOf(e)).ToArray());
        return new TrainBatch(UserBatchBuilder.Build(histories, users, ModelTestData.SmallTables, 10, TorchRuntime.Device), targets + 1, targets, torch.tensor(users.Select(u => (long)u).ToArray()));
    }

    [Fact]
    public void Readout_PicksInterestClosestToTarget()
    {
        using var scope = NewDisposeScope();
        var users = torch.tensor(new float[] { 1, 0, 0, 1, /* user 2 */ 1, 0, 0, 1 }, [2, 2, 2]);
        var items = torch.tensor(new float[] { 0, 3, 2, 0 }, [2, 2]);

        var picked = MicModel.Readout(users, items).data<float>().ToArray();

        Assert.Equal([0f, 1f, 1f, 0f], picked);
    }
}
