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

    /// <summary>
    /// Keep libtorch's freed tensor buffers in the heap for reuse instead of returning them to the
    /// kernel (glibc <c>mallopt</c>; see <see cref="TorchRuntime"/>). Off, or set MALLOC_MMAP_THRESHOLD_ /
    /// MALLOC_TRIM_THRESHOLD_ yourself, to keep glibc's defaults.
    /// </summary>
    public bool ReuseFreedMemory { get; init; } = true;
}

/// <summary>
/// One-time libtorch set-up, before the first tensor: OpenMP must not spin-wait on shared cores
/// (<c>OMP_WAIT_POLICY=PASSIVE</c>, set through libc so the native getenv sees it — .NET's
/// Environment.SetEnvironmentVariable does not reach native code), thread count, device choice,
/// and glibc's allocator thresholds.
/// </summary>
/// <remarks>
/// The allocator: a training step allocates and frees tensors of 1–10 MB (activations, gradients).
/// By default glibc serves each from a fresh mmap, or trims the freed heap top back to the kernel,
/// so the next step page-faults the same amount in again, zeroed: a profile of vanilla DSSM on
/// Beauty (<c>perf record</c>) put a fifth of the trainer's CPU in the kernel's page-fault path,
/// mostly under element-wise kernels writing fresh outputs. Raising the mmap threshold to its
/// 64-bit maximum (32 MiB) and the trim threshold to 1 GiB keeps those buffers in the heap: half
/// the page faults and 1.3–1.45× the examples/s (docs/BENCHMARKS.md, "Training cost"). The cost
/// is resident memory that stays at the step's peak instead of falling between steps.
/// </remarks>
public static partial class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static torch.Device? _device;

    public static torch.Device Device => _device ?? Initialize(new TorchOptions());

    /// <summary>
    /// Sets libtorch up once per process and returns the device. Later calls only change the thread
    /// count: the device and the allocator policy are the first call's (<see cref="MmapThreshold"/>
    /// tells which policy is in effect).
    /// </summary>
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

            if (options.ReuseFreedMemory && OperatingSystem.IsLinux())
            {
                ReuseFreedMemory();
            }

            var threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
            torch.set_num_threads(threads);
            _device = options.AllowCuda && torch.cuda.is_available() ? torch.CUDA : torch.CPU;
            return _device;
        }
    }

    /// <summary>glibc's trim threshold set with <see cref="MmapThreshold"/>: 1 GiB of freed heap top is kept.</summary>
    public const int TrimThreshold = 1 << 30;

    /// <summary>glibc's mmap threshold after <see cref="Initialize"/> (null: glibc's own, e.g. musl or the variables were set).</summary>
    public static int? MmapThreshold { get; private set; }

    private const int MallocTrimThreshold = -1;  // glibc's M_TRIM_THRESHOLD
    private const int MallocMmapThreshold = -3;  // glibc's M_MMAP_THRESHOLD
    private const int MaxMmapThreshold = 32 << 20; // glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit

    private static void ReuseFreedMemory()
    {
        if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null)
        {
            return; // the operator chose
        }

        try
        {
            if (MallOpt(MallocMmapThreshold, MaxMmapThreshold) == 1 && MallOpt(MallocTrimThreshold, TrimThreshold) == 1)
            {
                MmapThreshold = MaxMmapThreshold;
            }
        }
        catch (EntryPointNotFoundException)
        {
            // not glibc: its allocator keeps its own policy
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
