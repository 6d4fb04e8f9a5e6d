using System.Globalization;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Faiss;
using MIC.Streaming.Model;
using MIC.Streaming.Model.Training;
using MIC.Streaming.Retrieval.Channels;

namespace MIC.Streaming.Grains.Serving;

/// <summary>
/// The model store: one directory per published version, <c>{root}/v00000042/</c> holding the
/// checkpoint (<c>checkpoint/</c>: weights, manifest, dataset) and the index snapshot
/// (<c>index/</c>, checksummed). A version is written into a temporary sibling and renamed into
/// place, so a reader sees a complete version or none. The directory can be a mounted volume
/// shared by every silo.
/// </summary>
public static class ModelStore
{
    public const string CheckpointDirectory = "checkpoint";
    public const string IndexDirectory = "index";

    /// <summary>The streaming trainer's state (window, offsets) published with the weights it belongs to.</summary>
    public const string TrainerDirectory = "trainer";
    private const string Prefix = "v";

    public static string VersionPath(string root, long version) =>
        Path.Combine(root, Prefix + version.ToString("D8", CultureInfo.InvariantCulture));

    /// <summary>Version numbers present in the store, ascending (temporary directories ignored).</summary>
    public static long[] Versions(string root)
    {
        if (!Directory.Exists(root))
        {
            return [];
        }

        return [.. Directory.EnumerateDirectories(root)
            .Select(Path.GetFileName)
            .Where(n => n is { Length: 9 } && n.StartsWith(Prefix, StringComparison.Ordinal))
            .Select(n => long.TryParse(n.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1)
            .Where(v => v > 0)
            .Order()];
    }

    /// <summary>
    /// The number a new version gets: above the registry's current one and above every directory in
    /// the store (a version written but never registered must not be overwritten).
    /// </summary>
    public static long NextVersion(string root, ModelVersionInfo? current) =>
        Math.Max(current?.Version ?? 0, Versions(root) is [.., var last] ? last : 0) + 1;

    /// <summary>
    /// Writes a version: checkpoint + index snapshot of <paramref name="spaces"/>. Returns the
    /// registry entry to publish.
    /// </summary>
    public static ModelVersionInfo Write(
        string root, long version, MicModel model, InteractionDataset dataset, CheckpointManifest manifest, RetrievalSpaces spaces, string description, TimeProvider time,
        Action<string>? writeTrainerState = null, int shards = 0, IndexBuildOptions? shardIndexOptions = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        Directory.CreateDirectory(root);
        var final = VersionPath(root, version);
        if (Directory.Exists(final))
        {
            throw new IOException($"Model version {version} already exists at {final}.");
        }

        var temp = Path.Combine(root, $".tmp-{version}-{Guid.NewGuid():N}");
        try
        {
            Checkpoint.Save(Path.Combine(temp, CheckpointDirectory), model, dataset, manifest);
            SnapshotStore.Save(Path.Combine(temp, IndexDirectory), spaces, version);
            if (shards > 0)
            {
                // Sharded serving: the shard grains read only these. The whole snapshot above stays for
                // the trainer's prequential scoring and for serving the version replicated.
                Sharding.ShardStore.Write(temp, spaces, shards, shardIndexOptions ?? new IndexBuildOptions(), version);
            }

            writeTrainerState?.Invoke(Path.Combine(temp, TrainerDirectory));
            Directory.Move(temp, final);
        }
        catch
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            throw;
        }

        return new ModelVersionInfo(version, final, time.GetUtcNow(), description);
    }

    /// <summary>
    /// Rollback: copies version <paramref name="from"/> (weights + indexes, not its trainer state) to a
    /// new, higher <paramref name="version"/>, re-stamping the index snapshot, written aside and
    /// renamed like any version. Returns the registry entry to publish.
    /// </summary>
    public static ModelVersionInfo Republish(string root, long from, long version, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var source = VersionPath(root, from);
        if (!Directory.Exists(source))
        {
            throw new DirectoryNotFoundException($"Model version {from} is not in the store {root} (pruned, or never published).");
        }

        var final = VersionPath(root, version);
        if (Directory.Exists(final))
        {
            throw new IOException($"Model version {version} already exists at {final}.");
        }

        var temp = Path.Combine(root, $".tmp-{version}-{Guid.NewGuid():N}");
        try
        {
            foreach (var sub in new[] { CheckpointDirectory, IndexDirectory })
            {
                var target = Path.Combine(temp, sub);
                Directory.CreateDirectory(target);
                foreach (var file in Directory.GetFiles(Path.Combine(source, sub)))
                {
                    File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
                }
            }

            SnapshotStore.Restamp(Path.Combine(temp, IndexDirectory), version);
            if (Sharding.ShardStore.Exists(source))
            {
                CopyTree(Path.Combine(source, Sharding.ShardStore.Directory), Path.Combine(temp, Sharding.ShardStore.Directory));
                Sharding.ShardStore.Restamp(temp, version);
            }

            Directory.Move(temp, final);
        }
        catch
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            throw;
        }

        return new ModelVersionInfo(version, final, time.GetUtcNow(), $"rollback: the weights and indexes of version {from}") { RolledBackFrom = from };
    }

    /// <summary>
    /// Loads a version for serving (model in eval mode, indexes checked against their checksums). With
    /// <paramref name="sharded"/> only the user tower is loaded: the indexes stay in the version's shard
    /// files, which the shard grains load.
    /// </summary>
    public static ServingVersion Load(ModelVersionInfo info, bool sharded = false)
    {
        ArgumentNullException.ThrowIfNull(info);
        var shardManifest = sharded ? Sharding.ShardStore.ReadManifest(info.Path) : null;
        if (shardManifest is not null && shardManifest.Version != info.Version)
        {
            throw new InvalidDataException($"{info.Path}: the index shards are version {shardManifest.Version}, the registry says {info.Version}.");
        }

        var (model, tables, dataset, manifest) = Checkpoint.Load(Path.Combine(info.Path, CheckpointDirectory));
        try
        {
            if (shardManifest is not null)
            {
                var tower = new ModelEmbeddings(model, tables, manifest.Options.EncoderOptions.MaxLen);
                return new ServingVersion(info, model, tower, dataset, null, manifest.Options.EncoderOptions.MaxLen) { Shards = shardManifest.Shards };
            }

            var (spaces, version) = SnapshotStore.Load(Path.Combine(info.Path, IndexDirectory));
            if (version != info.Version)
            {
                spaces.Dispose();
                throw new InvalidDataException($"{info.Path}: the index snapshot is version {version}, the registry says {info.Version}.");
            }

            var embeddings = new ModelEmbeddings(model, tables, manifest.Options.EncoderOptions.MaxLen);
            return new ServingVersion(info, model, embeddings, dataset, spaces, manifest.Options.EncoderOptions.MaxLen);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var dir in Directory.GetDirectories(from))
        {
            CopyTree(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }

    /// <summary>Deletes versions older than the newest <paramref name="keep"/> (never those in <paramref name="inUse"/>).</summary>
    public static int Prune(string root, int keep, params long[] inUse)
    {
        ArgumentNullException.ThrowIfNull(inUse);
        var versions = Versions(root);
        var removed = 0;
        foreach (var v in versions.Take(Math.Max(0, versions.Length - keep)))
        {
            if (inUse.Contains(v))
            {
                continue;
            }

            Directory.Delete(VersionPath(root, v), recursive: true);
            removed++;
        }

        return removed;
    }
}
