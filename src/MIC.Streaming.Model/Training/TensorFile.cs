using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Training;

/// <summary>
/// Named tensors and a JSON header in one file: the magic <c>MICTENS1</c>, the header's length
/// (int32, little-endian) and UTF-8 JSON (the caller's header, then each tensor's name, dtype and
/// shape in order), then each tensor's raw bytes (CPU, contiguous, the platform's little-endian
/// layout). Written to a temporary file and renamed over the old one, so a process killed mid-write
/// leaves the previous file whole.
/// </summary>
public static class TensorFile
{
    private static readonly byte[] Magic = "MICTENS1"u8.ToArray();

    private sealed record Entry(string Name, string DType, long[] Shape);

    private sealed record Header(JsonElement Meta, List<Entry> Tensors);

    /// <summary>Bytes moved per copy: a span is limited to 2 GiB, and an embedding table of a large catalogue is bigger.</summary>
    private const int DefaultChunkBytes = 1 << 30;

    /// <summary>Writes <paramref name="meta"/> (any JSON-serialisable value) and the tensors to <paramref name="path"/>, replacing it atomically.</summary>
    public static void Write<TMeta>(string path, TMeta meta, IReadOnlyList<KeyValuePair<string, Tensor>> tensors) =>
        Write(path, meta, tensors, DefaultChunkBytes);

    internal static void Write<TMeta>(string path, TMeta meta, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, int chunkBytes)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var header = new Header(JsonSerializer.SerializeToElement(meta), [.. tensors.Select(t => new Entry(t.Key, t.Value.dtype.ToString(), t.Value.shape))]);
        var headerBytes = JsonSerializer.SerializeToUtf8Bytes(header);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            stream.Write(Magic);
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(length, headerBytes.Length);
            stream.Write(length);
            stream.Write(headerBytes);
            foreach (var (_, tensor) in tensors)
            {
                using var cpu = tensor.detach().cpu().contiguous();
                using var flat = cpu.reshape(-1);
                var step = Math.Max(1, chunkBytes / (int)flat.ElementSize);
                for (long start = 0; start < flat.numel(); start += step)
                {
                    using var chunk = flat.narrow(0, start, Math.Min(step, flat.numel() - start));
                    stream.Write(chunk.bytes);
                }
            }

            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads only the header's caller part (cheap: no tensor data is read).</summary>
    public static TMeta ReadMeta<TMeta>(string path) => ReadHeader(path, out _).Meta.Deserialize<TMeta>()
        ?? throw new InvalidDataException($"{path}: the header is empty.");

    /// <summary>Reads the header's caller part and every tensor (CPU tensors owned by the caller, outside any dispose scope).</summary>
    public static (TMeta Meta, Dictionary<string, Tensor> Tensors) Read<TMeta>(string path) => Read<TMeta>(path, DefaultChunkBytes);

    internal static (TMeta Meta, Dictionary<string, Tensor> Tensors) Read<TMeta>(string path, int chunkBytes)
    {
        var header = ReadHeader(path, out var dataStart);
        var meta = header.Meta.Deserialize<TMeta>() ?? throw new InvalidDataException($"{path}: the header is empty.");
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var stream = File.OpenRead(path);
        stream.Position = dataStart;
        try
        {
            foreach (var entry in header.Tensors)
            {
                if (!Enum.TryParse<ScalarType>(entry.DType, out var dtype))
                {
                    throw new InvalidDataException($"{path}: tensor '{entry.Name}' has unknown dtype '{entry.DType}'.");
                }

                var tensor = empty(entry.Shape, dtype).DetachFromDisposeScope();
                tensors[entry.Name] = tensor;
                using var flat = tensor.view(-1);
                var step = Math.Max(1, chunkBytes / (int)flat.ElementSize);
                var buffer = new byte[Math.Min(flat.numel(), step) * flat.ElementSize];
                for (long start = 0; start < flat.numel(); start += step)
                {
                    using var chunk = flat.narrow(0, start, Math.Min(step, flat.numel() - start));
                    var bytes = buffer.AsSpan(0, (int)(chunk.numel() * chunk.ElementSize));
                    stream.ReadExactly(bytes);
                    chunk.bytes = bytes;
                }
            }

            if (stream.Position != stream.Length)
            {
                throw new InvalidDataException($"{path}: {stream.Length - stream.Position} bytes after the last tensor.");
            }
        }
        catch
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }

            throw;
        }

        return (meta, tensors);
    }

    private static Header ReadHeader(string path, out long dataStart)
    {
        using var stream = File.OpenRead(path);
        Span<byte> prefix = stackalloc byte[12];
        try
        {
            stream.ReadExactly(prefix);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{path} is not a tensor file: it is {stream.Length} bytes long.");
        }

        if (!prefix[..8].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path} is not a tensor file (magic '{Encoding.ASCII.GetString(prefix[..8])}').");
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(prefix[8..]);
        if (length <= 0 || length > stream.Length - 12)
        {
            throw new InvalidDataException($"{path}: header length {length} does not fit the file.");
        }

        var headerBytes = new byte[length];
        stream.ReadExactly(headerBytes);
        dataStart = 12 + length;
        return JsonSerializer.Deserialize<Header>(headerBytes) ?? throw new InvalidDataException($"{path}: the header is empty.");
    }
}
