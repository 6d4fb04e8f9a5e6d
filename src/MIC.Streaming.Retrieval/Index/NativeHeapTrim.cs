using System.Runtime.InteropServices;

namespace MIC.Streaming.Retrieval.Index;

/// <summary>
/// Returns freed native heap pages to the operating system after a model version is released.
/// A version's Faiss indexes and libtorch tensors are tens of MB of malloc'd memory; glibc keeps
/// freed chunks in its arenas, so without a trim a silo's RSS kept the high-water mark of every
/// version it had loaded side by side (measured by scripts/soak.sh, docs/BENCHMARKS.md). Runs off the
/// releasing thread (often a query's), at most one at a time. A no-op where glibc is absent.
/// </summary>
public static partial class NativeHeapTrim
{
    private static int _pending;
    private static long _trims;

    /// <summary>Trims completed so far (for tests and benchmarks).</summary>
    public static long Trims => Interlocked.Read(ref _trims);

    /// <summary>Asks for a trim; returns at once.</summary>
    public static void Request()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref _pending, 1) == 1)
        {
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(static _ =>
        {
            try
            {
                if (malloc_trim(0) >= 0) // 1 = memory was released, 0 = none to release
                {
                    Interlocked.Increment(ref _trims);
                }
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                // musl and other C libraries have no malloc_trim: nothing to do.
            }
            finally
            {
                Volatile.Write(ref _pending, 0);
            }
        }, null);
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int malloc_trim(nuint pad);
}
