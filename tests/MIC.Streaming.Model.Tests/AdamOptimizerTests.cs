using MIC.Streaming.Model.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Tests;

/// <summary>
/// <see cref="AdamOptimizer"/> replaces TorchSharp's Adam (whose implicit scalars a garbage collection
/// can free mid-call) without changing a single weight: the same updates, to the bit.
/// </summary>
[Collection("torch")]
public class AdamOptimizerTests
{
    [Fact]
    public void Updates_Equal_TorchSharps_Adam_To_The_Bit()
    {
        using var theirsModel = Net();
        using var oursModel = Net();
        using var theirs = torch.optim.Adam(theirsModel.parameters(), 1e-2);
        using var ours = new AdamOptimizer(oursModel.parameters(), 1e-2);

        for (var step = 0; step < 8; step++)
        {
            torch.manual_seed(100 + step);
            using var x = torch.randn(32, 8);
            using var target = torch.randn(32, 4);

            theirs.zero_grad();
            using (var loss = nn.functional.mse_loss(theirsModel.forward(x), target))
            {
                loss.backward();
            }

            theirs.step();

            ours.ZeroGrad();
            using (var loss = nn.functional.mse_loss(oursModel.forward(x), target))
            {
                loss.backward();
            }

            ours.Step();
        }

        var pairs = theirsModel.parameters().Zip(oursModel.parameters()).ToList();
        Assert.Equal(4, pairs.Count);
        Assert.All(pairs, p => Assert.True(Same(p.First, p.Second), "a weight differs from TorchSharp's Adam"));
        using var initial = Net();
        Assert.False(Same(initial.parameters().First(), oursModel.parameters().First()), "the weights did not move");
        Assert.Equal(8, ours.Steps);
    }

    [Fact]
    public void A_Parameter_Without_A_Gradient_Is_Left_Alone()
    {
        using var model = Net();
        using var adam = new AdamOptimizer(model.parameters(), 1e-2);
        var frozen = model.parameters().Last();
        using var before = frozen.detach().clone();
        frozen.requires_grad = false;

        using var x = torch.randn(16, 8);
        using (var loss = model.forward(x).sum())
        {
            loss.backward();
        }

        adam.Step();

        Assert.True(Same(before, frozen));
        using var initial = Net();
        Assert.False(Same(initial.parameters().First(), model.parameters().First()));
    }

    private static bool Same(Tensor a, Tensor b)
    {
        using var equal = a.eq(b).all(); // element by element, exactly
        return equal.item<bool>();
    }

    private static nn.Module<Tensor, Tensor> Net()
    {
        torch.manual_seed(7);
        return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4));
    }
}
