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

    [Fact]
    public void Initialize_OnGlibc_KeepsFreedTensorBuffersInTheHeap()
    {
        TorchRuntime.Initialize(new TorchOptions { Threads = 2 });
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null)
        {
            return; // another allocator, or the operator's own thresholds
        }

        // glibc accepted the values (mallopt returns 1 only for a valid threshold: 32 MiB is its 64-bit maximum).
        Assert.Equal(32 << 20, TorchRuntime.MmapThreshold);
        Assert.Equal(1 << 30, TorchRuntime.TrimThreshold);
    }
}
