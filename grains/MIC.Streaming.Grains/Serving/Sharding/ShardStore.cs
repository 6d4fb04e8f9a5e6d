using System.Globalization;
using System.Text.Json;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Faiss;
using MIC.Streaming.Retrieval.Channels;
using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Grains.Serving.Sharding;

/// <summary>
/// A version's indexes written as S shards, <c>{version}/shards/manifest.json</c> and one directory per
/// shard (<c>s0000/</c>…), so a shard grain reads only its own files. Each shard directory holds its
/// items' relevance vectors and neighbour rows, its users' vectors, ids and histories, an index per
/// side (Faiss files, or "exact" rebuilt from the vectors) and a SHA-256 per file; a missing or
/// corrupt file is rejected, never half-loaded.
/// </summary>
public static class ShardStore
{
    public const string Directory = "shards";
    public const string ManifestFile = "manifest.json";
    private const string ShardFile = "shard.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>What every shard of a version shares.</summary>
    public sealed record Manifest(int FormatVersion, long Version, int Shards, int Items, int Users, int Dimension, int NeighbourWidth);

    private sealed record ShardManifest(long Version, int Shard, string ItemIndex, string UserIndex, Dictionary<string, string> Sha256);

    public static string ShardPath(string versionPath, int shard) =>
        Path.Combine(versionPath, Directory, "s" + shard.ToString("D4", CultureInfo.InvariantCulture));

    public static bool Exists(string versionPath) => File.Exists(Path.Combine(versionPath, Directory, ManifestFile));

    /// <summary>
    /// Splits <paramref name="spaces"/> (which must carry an item→item neighbour table) into
    /// <paramref name="shards"/> shards under <paramref name="versionPath"/>; each shard's indexes are
    /// planned for the shard's size by <see cref="IndexPlanner"/>.
    /// </summary>
    public static Manifest Write(string versionPath, RetrievalSpaces spaces, int shards, IndexBuildOptions options, long version)
    {
        ArgumentNullException.ThrowIfNull(spaces);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        var table = spaces.ItemNeighbours ?? throw new ArgumentException("Sharded serving needs the item→item neighbour table (Trainer:ItemNeighbours > 0).", nameof(spaces));
        var d = spaces.ItemRelevance.Dimension;
        var root = Path.Combine(versionPath, Directory);
        System.IO.Directory.CreateDirectory(root);
        var perShard = options with { Shards = 1 };
        for (var s = 0; s < shards; s++)
        {
            var dir = ShardPath(versionPath, s);
            System.IO.Directory.CreateDirectory(dir);

            // Items: global rows s, s+S, s+2S, …
            var itemRows = Enumerable.Range(0, spaces.ItemRelevance.Rows).Where(r => r % shards == s).ToArray();
            var rel = Gather(spaces.ItemRelevance, itemRows);
            var neighbourIds = new int[itemRows.Length * table.Width];
            var neighbourSims = new float[itemRows.Length * table.Width];
            for (var i = 0; i < itemRows.Length; i++)
            {
                Array.Copy(table.Ids, itemRows[i] * table.Width, neighbourIds, i * table.Width, table.Width);
                Array.Copy(table.Similarities, itemRows[i] * table.Width, neighbourSims, i * table.Width, table.Width);
            }

            // Users: indexed users whose dense id ≡ s (mod S), with their histories.
            var userRows = Enumerable.Range(0, spaces.UserIds.Length).Where(i => spaces.UserIds[i] % shards == s).ToArray();
            var userIds = userRows.Select(i => spaces.UserIds[i]).ToArray();
            var users = Gather(spaces.UserOwn, userRows);
            var offsets = new int[userIds.Length + 1];
            var history = new List<int>();
            var times = new List<long>();
            for (var i = 0; i < userIds.Length; i++)
            {
                history.AddRange(spaces.UserHistories.Sequence((int)userIds[i]).ToArray());
                times.AddRange(spaces.UserHistories.SequenceTimes((int)userIds[i]).ToArray());
                offsets[i + 1] = history.Count;
            }

            SnapshotFiles.WriteArray(Path.Combine(dir, "item_relevance.f32"), rel.Data);
            SnapshotFiles.WriteArray(Path.Combine(dir, "item_neighbours.i32"), neighbourIds);
            SnapshotFiles.WriteArray(Path.Combine(dir, "item_neighbour_sims.f32"), neighbourSims);
            SnapshotFiles.WriteArray(Path.Combine(dir, "user_ids.i64"), userIds);
            SnapshotFiles.WriteArray(Path.Combine(dir, "user_own.f32"), users.Data);
            SnapshotFiles.WriteArray(Path.Combine(dir, "history_offsets.i32"), offsets);
            SnapshotFiles.WriteArray(Path.Combine(dir, "history_items.i32"), [.. history]);
            SnapshotFiles.WriteArray(Path.Combine(dir, "history_times.i64"), [.. times]);
            var itemIndex = SaveIndex(dir, "item", rel, itemRows.Select(r => (long)r).ToArray(), perShard);
            var userIndex = SaveIndex(dir, "user", users, userIds, perShard);
            var sums = System.IO.Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), SnapshotFiles.Sha256);
            File.WriteAllText(Path.Combine(dir, ShardFile), JsonSerializer.Serialize(new ShardManifest(version, s, itemIndex, userIndex, sums), Json));
        }

        var manifest = new Manifest(1, version, shards, spaces.ItemRelevance.Rows, spaces.UserIds.Length, d, table.Width);
        File.WriteAllText(Path.Combine(root, ManifestFile), JsonSerializer.Serialize(manifest, Json));
        return manifest;
    }

    public static Manifest ReadManifest(string versionPath)
    {
        var path = Path.Combine(versionPath, Directory, ManifestFile);
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"{versionPath} has no index shards ({Directory}/{ManifestFile} is missing): it was published for replicated serving.");
        }

        try
        {
            return JsonSerializer.Deserialize<Manifest>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is corrupt: {e.Message}", e);
        }
    }

    /// <summary>Gives copied shards a new version number (rollback); files and checksums are unchanged.</summary>
    public static void Restamp(string versionPath, long version)
    {
        var manifest = ReadManifest(versionPath);
        File.WriteAllText(Path.Combine(versionPath, Directory, ManifestFile), JsonSerializer.Serialize(manifest with { Version = version }, Json));
        for (var s = 0; s < manifest.Shards; s++)
        {
            var path = Path.Combine(ShardPath(versionPath, s), ShardFile);
            var shard = JsonSerializer.Deserialize<ShardManifest>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path} is empty.");
            File.WriteAllText(path, JsonSerializer.Serialize(shard with { Version = version }, Json));
        }
    }

    /// <summary>Loads shard <paramref name="shard"/> of the version at <paramref name="versionPath"/>, checking its files.</summary>
    public static SpaceShard Load(string versionPath, int shard, long expectedVersion)
    {
        var manifest = ReadManifest(versionPath);
        if (shard < 0 || shard >= manifest.Shards)
        {
            throw new InvalidDataException($"{versionPath} has {manifest.Shards} shards; shard {shard} does not exist.");
        }

        var dir = ShardPath(versionPath, shard);
        var shardManifestPath = Path.Combine(dir, ShardFile);
        if (!File.Exists(shardManifestPath))
        {
            throw new InvalidDataException($"Shard {dir} is incomplete: {ShardFile} is missing.");
        }

        var own = JsonSerializer.Deserialize<ShardManifest>(File.ReadAllText(shardManifestPath), Json) ?? throw new InvalidDataException($"{shardManifestPath} is empty.");
        if (own.Version != expectedVersion || manifest.Version != expectedVersion)
        {
            throw new InvalidDataException($"Shard {dir} is version {own.Version} (manifest {manifest.Version}); expected {expectedVersion}.");
        }

        foreach (var (file, sum) in own.Sha256)
        {
            var path = Path.Combine(dir, file);
            if (!File.Exists(path) || !string.Equals(SnapshotFiles.Sha256(path), sum, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"Shard {dir} is corrupt: {file} is missing or does not match its checksum.");
            }
        }

        var d = manifest.Dimension;
        var rel = new EmbeddingMatrix(SnapshotFiles.ReadArray<float>(Path.Combine(dir, "item_relevance.f32")), d);
        var table = new ItemNeighbourTable(SnapshotFiles.ReadArray<int>(Path.Combine(dir, "item_neighbours.i32")), SnapshotFiles.ReadArray<float>(Path.Combine(dir, "item_neighbour_sims.f32")), manifest.NeighbourWidth);
        var userIds = SnapshotFiles.ReadArray<long>(Path.Combine(dir, "user_ids.i64"));
        var users = new EmbeddingMatrix(SnapshotFiles.ReadArray<float>(Path.Combine(dir, "user_own.f32")), d);
        var histories = new SequenceTable(SnapshotFiles.ReadArray<int>(Path.Combine(dir, "history_offsets.i32")), SnapshotFiles.ReadArray<int>(Path.Combine(dir, "history_items.i32")), SnapshotFiles.ReadArray<long>(Path.Combine(dir, "history_times.i64")));
        var itemIds = Enumerable.Range(0, rel.Rows).Select(i => (long)SpaceShard.GlobalRow(i, shard, manifest.Shards)).ToArray();
        var itemIndex = LoadIndex(dir, own.ItemIndex, rel, itemIds);
        try
        {
            var userIndex = LoadIndex(dir, own.UserIndex, users, userIds);
            var bytes = own.Sha256.Keys.Sum(f => new FileInfo(Path.Combine(dir, f)).Length);
            return new SpaceShard(expectedVersion, shard, manifest.Shards, rel, itemIndex, table, userIds, userIndex, histories, bytes);
        }
        catch
        {
            itemIndex.Dispose();
            throw;
        }
    }

    private static EmbeddingMatrix Gather(EmbeddingMatrix source, int[] rows)
    {
        var d = source.Dimension;
        var data = new float[rows.Length * d];
        for (var i = 0; i < rows.Length; i++)
        {
            source.Row(rows[i]).CopyTo(data.AsSpan(i * d, d));
        }

        return new EmbeddingMatrix(data, d);
    }

    /// <summary>Builds the shard's index for its size and saves it; returns "exact" or the file name.</summary>
    private static string SaveIndex(string dir, string name, EmbeddingMatrix vectors, long[] ids, IndexBuildOptions options)
    {
        if (vectors.Rows == 0)
        {
            return "exact";
        }

        var (index, _) = IndexPlanner.Build(vectors, ids, options);
        using (index)
        {
            if (index is FaissIndex faiss)
            {
                var file = name + ".faiss";
                faiss.Save(Path.Combine(dir, file));
                return file;
            }

            return "exact";
        }
    }

    private static IVectorIndex LoadIndex(string dir, string entry, EmbeddingMatrix vectors, long[] ids) =>
        entry == "exact" ? new ExactIndex(vectors, ids) : FaissIndex.Load(Path.Combine(dir, entry));
}
