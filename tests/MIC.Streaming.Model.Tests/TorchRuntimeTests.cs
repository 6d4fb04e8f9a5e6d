using TorchSharp;

namespace MIC.Streaming.Model.Tests;

[Collection("torch")]

public class TorchRuntimeTests
{
    [Fact]
    public void Initialize_OnThisMachine_LoadsLibtorchAndComputes()
    {
        var device = TorchRuntime.Initialize(new TorchOptions { Threads = 2 });

        using var a = torch.ones(2, 3, device: device);
        using var b = a.sum();

        Assert.Equal(6f, b.item<float>());
        Assert.Equal("PASSIVE", Environment.GetEnvironmentVariable("OMP_WAIT_POLICY"));
    }
}
