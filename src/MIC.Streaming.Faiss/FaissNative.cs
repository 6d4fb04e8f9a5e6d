using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MIC.Streaming.Faiss;

/// <summary>An owned native faiss::Index*; released exactly once, never while a call holds it.</summary>
internal sealed class FaissIndexHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public FaissIndexHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        FaissNative.Free(handle);
        return true;
    }
}

/// <summary>Thrown for any failed native Faiss call; the message is Faiss's own text.</summary>
public sealed class FaissException : Exception
{
    public FaissException()
    {
    }

    public FaissException(string message)
        : base(message)
    {
    }

    public FaissException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>[LibraryImport] binding of native/mic_faiss.cpp; every return code is checked by <see cref="Check"/>.</summary>
internal static partial class FaissNative
{
    private const string Library = "mic_faiss";

    static FaissNative() => NativeLibrary.SetDllImportResolver(typeof(FaissNative).Assembly, Resolve);

    /// <summary>Finds libmic_faiss.so next to this assembly (no LD_LIBRARY_PATH needed).</summary>
    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library)
        {
            return IntPtr.Zero;
        }

        var dir = Path.GetDirectoryName(assembly.Location) ?? AppContext.BaseDirectory;
        foreach (var candidate in new[] { Path.Combine(dir, "libmic_faiss.so"), Path.Combine(AppContext.BaseDirectory, "libmic_faiss.so") })
        {
            if (File.Exists(candidate))
            {
                return NativeLibrary.Load(candidate);
            }
        }

        throw new DllNotFoundException($"libmic_faiss.so was not found next to {assembly.GetName().Name}.dll ({dir}). It is built by `dotnet build` from src/MIC.Streaming.Faiss/native; install its prerequisites with: sudo apt-get install -y libfaiss-dev libopenblas-dev g++");
    }

    public static void Check(int rc, string operation)
    {
        if (rc != 0)
        {
            var message = Marshal.PtrToStringUTF8(LastError()) ?? "unknown error";
            throw new FaissException($"Faiss {operation} failed: {message}");
        }
    }

    [LibraryImport(Library, EntryPoint = "mic_faiss_last_error")]
    private static partial IntPtr LastError();

    [LibraryImport(Library, EntryPoint = "mic_faiss_live_indexes")]
    public static partial long LiveIndexes();

    [LibraryImport(Library, EntryPoint = "mic_faiss_simd_kernels")]
    public static partial int SimdKernels();

    [LibraryImport(Library, EntryPoint = "mic_faiss_index_factory", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int IndexFactory(int dim, string description, int metric, out IntPtr index);

    [LibraryImport(Library, EntryPoint = "mic_faiss_train")]
    public static unsafe partial int Train(FaissIndexHandle index, long n, float* x, int threads);

    [LibraryImport(Library, EntryPoint = "mic_faiss_add_with_ids")]
    public static unsafe partial int AddWithIds(FaissIndexHandle index, long n, float* x, long* ids, int threads);

    [LibraryImport(Library, EntryPoint = "mic_faiss_search")]
    public static unsafe partial int Search(FaissIndexHandle index, long n, float* x, long k, float* distances, long* labels, int threads);

    [LibraryImport(Library, EntryPoint = "mic_faiss_remove_ids")]
    public static unsafe partial int RemoveIds(FaissIndexHandle index, long n, long* ids, out long removed);

    [LibraryImport(Library, EntryPoint = "mic_faiss_set_param", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SetParam(FaissIndexHandle index, string name, double value);

    [LibraryImport(Library, EntryPoint = "mic_faiss_write", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Write(FaissIndexHandle index, string path);

    [LibraryImport(Library, EntryPoint = "mic_faiss_read", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Read(string path, out IntPtr index);

    [LibraryImport(Library, EntryPoint = "mic_faiss_info")]
    public static partial int Info(FaissIndexHandle index, out long ntotal, out int dim, out int isTrained);

    [LibraryImport(Library, EntryPoint = "mic_faiss_free")]
    public static partial void Free(IntPtr index);

    public static FaissIndexHandle Wrap(IntPtr raw)
    {
        var handle = new FaissIndexHandle();
        Marshal.InitHandle(handle, raw);
        return handle;
    }
}
