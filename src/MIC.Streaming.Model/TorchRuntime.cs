using System.Runtime.InteropServices;
using TorchSharp;

namespace MIC.Streaming.Model;

/// <summary>Where and how libtorch runs.</summary>
public sealed record TorchOptions
{
    /// <summary>Use CUDA when the CUDA backend is built in and a GPU is visible.</summary>
    public bool AllowCuda { get; init; } = true;

    /// <summary>Intra-op threads (0 = all cores). The demo splits cores between training and serving.</summary>
    public int Threads { get; init; }
}

/// <summary>
/// One-time libtorch set-up, before the first tensor: OpenMP must not spin-wait on shared cores
/// (<c>OMP_WAIT_POLICY=PASSIVE</c>, set through libc so the native getenv sees it — .NET's
/// Environment.SetEnvironmentVariable does not reach native code), thread count, device choice.
/// </summary>
public static partial class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static torch.Device? _device;

    public static torch.Device Device => _device ?? Initialize(new TorchOptions());

    public static torch.Device Initialize(TorchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (Gate)
        {
            if (_device is not null)
            {
                if (options.Threads > 0)
                {
                    torch.set_num_threads(options.Threads);
                }

                return _device;
            }

            if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
            {
                _ = SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0);
                Environment.SetEnvironmentVariable("OMP_WAIT_POLICY", "PASSIVE");
            }

            var threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
            torch.set_num_threads(threads);
            _device = options.AllowCuda && torch.cuda.is_available() ? torch.CUDA : torch.CPU;
            return _device;
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
