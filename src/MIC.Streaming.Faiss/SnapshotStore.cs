using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Retrieval.Channels;
using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Faiss;

/// <summary>Builds the three indexes of a model version with <see cref="IndexPlanner"/>.</summary>
public static class SpacesBuilder
{
    /// <summary>
    /// Normalises the matrices and builds: item relevance index (U2I), item own index (U2I2I), user
    /// own index over users with a history (U2U2I). <paramref name="queries"/> (user relevance vectors)
    /// tune the item relevance index; the other two tune on their own rows.
    /// </summary>
    public static (RetrievalSpaces Spaces, IReadOnlyDictionary<string, IndexBuildReport> Reports) Build(
        EmbeddingMatrix itemRelevance, EmbeddingMatrix itemOwn, EmbeddingMatrix userOwn, SequenceTable histories, IndexBuildOptions options, EmbeddingMatrix? queries = null)
    {
        ArgumentNullException.ThrowIfNull(itemRelevance);
        ArgumentNullException.ThrowIfNull(itemOwn);
        ArgumentNullException.ThrowIfNull(userOwn);
        var rel = itemRelevance.Normalised();
        var own = itemOwn.Normalised();
        var (users, userIds) = RetrievalSpaces.UsersWithHistory(userOwn.Normalised(), histories);
        var itemIds = Enumerable.Range(0, rel.Rows).Select(i => (long)i).ToArray();
        var reports = new Dictionary<string, IndexBuildReport>();
        var built = new List<IVectorIndex>();
        try
        {
            var (relIndex, r1) = IndexPlanner.Build(rel, itemIds, options, queries?.Normalised());
            built.Add(relIndex);
            var (ownIndex, r2) = IndexPlanner.Build(own, itemIds, options);
            built.Add(ownIndex);
            var (userIndex, r3) = IndexPlanner.Build(users, userIds, options);
            built.Add(userIndex);
            var neighbours = options.ItemNeighbours > 0 ? ItemNeighbourTable.Build(ownIndex, own, options.ItemNeighbours) : null;
            reports["item_relevance"] = r1;
            reports["item_own"] = r2;
            reports["user_own"] = r3;
            return (new RetrievalSpaces(relIndex, rel, ownIndex, own, userIndex, users, userIds, histories) { ItemNeighbours = neighbours }, reports);
        }
        catch
        {
            built.ForEach(b => b.Dispose());
            throw;
        }
    }
}

/// <summary>
/// Saves and loads a version's retrieval spaces in a directory: raw matrices, ids and histories,
/// each index as Faiss files per shard (or "exact", rebuilt from its matrix), and a manifest with a
/// SHA-256 per file. A missing, partial or corrupt snapshot is rejected with a clear error, never
/// half-loaded. Writes go to a temporary sibling directory that is renamed into place.
/// </summary>
public static class SnapshotStore
{
    public const string ManifestFile = "snapshot.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private sealed record IndexEntry(string Kind, string[] Files);

    private sealed record Manifest(int FormatVersion, long Version, int Dimension, Dictionary<string, IndexEntry> Indexes, Dictionary<string, string> Sha256);

    public static void Save(string directory, RetrievalSpaces spaces, long version)
    {
        ArgumentNullException.ThrowIfNull(spaces);
        var full = Path.GetFullPath(directory);
        var temp = full + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(temp);
        try
        {
            SnapshotFiles.WriteArray(Path.Combine(temp, "item_relevance.f32"), spaces.ItemRelevance.Data);
            SnapshotFiles.WriteArray(Path.Combine(temp, "item_own.f32"), spaces.ItemOwn.Data);
            SnapshotFiles.WriteArray(Path.Combine(temp, "user_own.f32"), spaces.UserOwn.Data);
            SnapshotFiles.WriteArray(Path.Combine(temp, "user_ids.i64"), spaces.UserIds);
            SnapshotFiles.WriteArray(Path.Combine(temp, "history_offsets.i32"), spaces.UserHistories.Offsets);
            SnapshotFiles.WriteArray(Path.Combine(temp, "history_items.i32"), spaces.UserHistories.Items);
            SnapshotFiles.WriteArray(Path.Combine(temp, "history_times.i64"), spaces.UserHistories.Timestamps);
            if (spaces.ItemNeighbours is { } table)
            {
                SnapshotFiles.WriteArray(Path.Combine(temp, "item_neighbours.i32"), table.Ids);
                SnapshotFiles.WriteArray(Path.Combine(temp, "item_neighbour_sims.f32"), table.Similarities);
            }

            var indexes = new Dictionary<string, IndexEntry>
            {
                ["item_relevance"] = SaveIndex(temp, "item_relevance", spaces.ItemRelevanceIndex),
                ["item_own"] = SaveIndex(temp, "item_own", spaces.ItemOwnIndex),
                ["user_own"] = SaveIndex(temp, "user_own", spaces.UserOwnIndex),
            };
            var sums = Directory.GetFiles(temp).ToDictionary(f => Path.GetFileName(f), SnapshotFiles.Sha256);
            File.WriteAllText(Path.Combine(temp, ManifestFile), JsonSerializer.Serialize(new Manifest(1, version, spaces.ItemOwn.Dimension, indexes, sums), Json));
            if (Directory.Exists(full))
            {
                Directory.Delete(full, recursive: true);
            }

            Directory.Move(temp, full);
        }
        catch
        {
            Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    /// <summary>Gives a copied snapshot a new version number (rollback); the files and their checksums are unchanged.</summary>
    public static void Restamp(string directory, long version)
    {
        var manifestPath = Path.Combine(directory, ManifestFile);
        var manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(manifestPath), Json)
            ?? throw new InvalidDataException($"{manifestPath} is empty.");
        var temp = manifestPath + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(manifest with { Version = version }, Json));
        File.Move(temp, manifestPath, overwrite: true);
    }

    public static (RetrievalSpaces Spaces, long Version) Load(string directory)
    {
        var manifestPath = Path.Combine(directory, ManifestFile);
        if (!File.Exists(manifestPath))
        {
            throw new InvalidDataException($"{directory} is not an index snapshot: {ManifestFile} is missing (partial write?).");
        }

        Manifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(manifestPath), Json) ?? throw new InvalidDataException("empty manifest");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{manifestPath} is corrupt: {e.Message}", e);
        }

        foreach (var (file, sum) in manifest.Sha256)
        {
            var path = Path.Combine(directory, file);
            if (!File.Exists(path))
            {
                throw new InvalidDataException($"Index snapshot {directory} is incomplete: {file} is missing.");
            }

            if (!string.Equals(SnapshotFiles.Sha256(path), sum, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"Index snapshot {directory} is corrupt: {file} does not match its checksum.");
            }
        }

        var d = manifest.Dimension;
        var rel = new EmbeddingMatrix(SnapshotFiles.ReadArray<float>(Path.Combine(directory, "item_relevance.f32")), d);
        var own = new EmbeddingMatrix(SnapshotFiles.ReadArray<float>(Path.Combine(directory, "item_own.f32")), d);
        var users = new EmbeddingMatrix(SnapshotFiles.ReadArray<float>(Path.Combine(directory, "user_own.f32")), d);
        var userIds = SnapshotFiles.ReadArray<long>(Path.Combine(directory, "user_ids.i64"));
        var histories = new SequenceTable(SnapshotFiles.ReadArray<int>(Path.Combine(directory, "history_offsets.i32")), SnapshotFiles.ReadArray<int>(Path.Combine(directory, "history_items.i32")), SnapshotFiles.ReadArray<long>(Path.Combine(directory, "history_times.i64")));
        var itemIds = Enumerable.Range(0, rel.Rows).Select(i => (long)i).ToArray();
        var loaded = new List<IVectorIndex>();
        try
        {
            var relIndex = LoadIndex(directory, manifest.Indexes["item_relevance"], rel, itemIds);
            loaded.Add(relIndex);
            var ownIndex = LoadIndex(directory, manifest.Indexes["item_own"], own, itemIds);
            loaded.Add(ownIndex);
            var userIndex = LoadIndex(directory, manifest.Indexes["user_own"], users, userIds);
            loaded.Add(userIndex);
            ItemNeighbourTable? table = null;
            var neighbourPath = Path.Combine(directory, "item_neighbours.i32");
            if (File.Exists(neighbourPath) && rel.Rows > 0)
            {
                var neighbourIds = SnapshotFiles.ReadArray<int>(neighbourPath);
                table = new ItemNeighbourTable(neighbourIds, SnapshotFiles.ReadArray<float>(Path.Combine(directory, "item_neighbour_sims.f32")), neighbourIds.Length / rel.Rows);
            }

            return (new RetrievalSpaces(relIndex, rel, ownIndex, own, userIndex, users, userIds, histories) { ItemNeighbours = table }, manifest.Version);
        }
        catch
        {
            loaded.ForEach(i => i.Dispose());
            throw;
        }
    }

    private static IndexEntry SaveIndex(string dir, string name, IVectorIndex index)
    {
        var shards = index is ShardedIndex s ? s.Shards : [index];
        if (shards.All(x => x is ExactIndex))
        {
            return new IndexEntry("exact", [shards.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        var files = new List<string>();
        for (var i = 0; i < shards.Count; i++)
        {
            if (shards[i] is not FaissIndex f)
            {
                throw new NotSupportedException($"Cannot save a {shards[i].GetType().Name} shard.");
            }

            var file = $"{name}.shard{i}.faiss";
            f.Save(Path.Combine(dir, file));
            files.Add(file);
        }

        return new IndexEntry("faiss", [.. files]);
    }

    private static IVectorIndex LoadIndex(string dir, IndexEntry entry, EmbeddingMatrix vectors, long[] ids)
    {
        if (entry.Kind == "exact")
        {
            var shards = int.Parse(entry.Files[0], System.Globalization.CultureInfo.InvariantCulture);
            return ShardedIndex.Build(vectors, ids, shards, (m, i) => new ExactIndex(m, i));
        }

        var parts = new List<IVectorIndex>();
        try
        {
            foreach (var file in entry.Files)
            {
                parts.Add(FaissIndex.Load(Path.Combine(dir, file)));
            }
        }
        catch
        {
            parts.ForEach(p => p.Dispose());
            throw;
        }

        return parts.Count == 1 ? parts[0] : new ShardedIndex(parts);
    }
}

/// <summary>The raw-array files and checksums both snapshot layouts (whole and sharded) are made of.</summary>
public static class SnapshotFiles
{
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    public static void WriteArray<T>(string path, T[] values)
        where T : unmanaged
    {
        using var stream = File.Create(path);
        stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    public static T[] ReadArray<T>(string path)
        where T : unmanaged
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length % Marshal.SizeOf<T>() != 0)
        {
            throw new InvalidDataException($"{path} has a size that is not a whole number of {typeof(T).Name} values.");
        }

        return MemoryMarshal.Cast<byte, T>(bytes).ToArray();
    }
}
