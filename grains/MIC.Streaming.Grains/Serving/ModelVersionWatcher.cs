using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MIC.Streaming.Grains.Serving;

/// <summary>Section "Serving": how a silo follows the model registry.</summary>
public sealed class ServingOptions
{
    public const string SectionName = "Serving";

    /// <summary>How often each silo asks the registry for a newer version.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A checkpoint directory (from <c>mic train --checkpoint</c>) published as version 1 when the
    /// registry is empty, so a fresh cluster serves without a separate publish step.
    /// </summary>
    public string? BootstrapCheckpoint { get; set; }

    /// <summary>The model store new versions are written to (the silo passes Silo:ModelStore).</summary>
    public string ModelStore { get; set; } = "model-store";

    /// <summary>
    /// How long a query waits for the live user grain. Past it (the grain's silo was just killed and
    /// is not yet declared dead, or is overloaded), the query is served from the user's last stored
    /// sequence (at most one flush old) instead of failing; the storage read gets the same time again,
    /// then the user gets the cold-start answer.
    /// </summary>
    public TimeSpan LiveSequenceTimeout { get; set; } = TimeSpan.FromMilliseconds(400);

    /// <summary>
    /// <c>Replicated</c>: every serving silo loads a version's whole indexes. <c>Sharded</c>: versions are
    /// also written as <see cref="Shards"/> index shards, each served by one grain (spread over the
    /// serving silos) that loads only its shard; silos keep only the user tower. <c>Auto</c> (default):
    /// sharded when a version has at least <see cref="ShardedAbove"/> item + user vectors.
    /// </summary>
    public ServingMode Mode { get; set; } = ServingMode.Auto;

    /// <summary>Index shards per version in sharded mode (at least the number of serving silos, so each holds some).</summary>
    public int Shards { get; set; } = 8;

    /// <summary>Auto mode: item + user vectors from which a version is sharded.</summary>
    public long ShardedAbove { get; set; } = 5_000_000;

    /// <summary>Grains per shard, on different silos while replicas ≤ silos; a query fails over to the next replica.</summary>
    public int ShardReplicas { get; set; } = 1;

    /// <summary>
    /// How long a sharded query waits for its shards (both hops together). Shards that have not
    /// answered by then (their silo died and they are re-activating elsewhere) are left out and the
    /// answer says <c>partial: true</c>.
    /// </summary>
    public TimeSpan ShardBudget { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A shard of a superseded version that has had no query for this long deactivates and frees its memory.</summary>
    public TimeSpan ShardRetireAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many shards a version of <paramref name="vectors"/> item + user vectors is written as (0 = not sharded).</summary>
    public int ShardsFor(long vectors) => Mode switch
    {
        ServingMode.Sharded => Shards,
        ServingMode.Auto when vectors >= ShardedAbove => Shards,
        _ => 0,
    };

    public IEnumerable<string> Validate()
    {
        if (!Enum.IsDefined(Mode))
        {
            yield return $"{SectionName}:{nameof(Mode)} must be Auto, Replicated or Sharded (got {Mode}).";
        }

        if (Shards is < 1 or > 4096)
        {
            yield return $"{SectionName}:{nameof(Shards)} must be between 1 and 4096 (got {Shards}).";
        }

        if (ShardedAbove < 1)
        {
            yield return $"{SectionName}:{nameof(ShardedAbove)} must be at least 1 (got {ShardedAbove}).";
        }

        if (ShardReplicas is < 1 or > 16)
        {
            yield return $"{SectionName}:{nameof(ShardReplicas)} must be between 1 and 16 (got {ShardReplicas}).";
        }

        if (ShardBudget < TimeSpan.FromMilliseconds(10) || ShardBudget > TimeSpan.FromSeconds(30))
        {
            yield return $"{SectionName}:{nameof(ShardBudget)} must be between 00:00:00.01 and 00:00:30 (got {ShardBudget}).";
        }

        if (ShardRetireAfter < TimeSpan.FromSeconds(1) || ShardRetireAfter > TimeSpan.FromHours(1))
        {
            yield return $"{SectionName}:{nameof(ShardRetireAfter)} must be between 00:00:01 and 01:00:00 (got {ShardRetireAfter}).";
        }

        if (LiveSequenceTimeout < TimeSpan.FromMilliseconds(10) || LiveSequenceTimeout > TimeSpan.FromSeconds(30))
        {
            yield return $"{SectionName}:{nameof(LiveSequenceTimeout)} must be between 00:00:00.01 and 00:00:30 (got {LiveSequenceTimeout}).";
        }

        if (PollInterval < TimeSpan.FromMilliseconds(50) || PollInterval > TimeSpan.FromMinutes(10))
        {
            yield return $"{SectionName}:{nameof(PollInterval)} must be between 00:00:00.05 and 00:10:00 (got {PollInterval}).";
        }
    }
}

/// <summary>How a silo serves a version's indexes (see <see cref="ServingOptions.Mode"/>).</summary>
public enum ServingMode
{
    Auto,
    Replicated,
    Sharded,
}

/// <summary>
/// Keeps this silo's <see cref="ServingModel"/> on the registry's current version: polls the
/// registry grain, loads a newer version from the model store aside, then swaps it in. A version
/// that fails to load (corrupt, partial) is logged and skipped; the previous one keeps serving.
/// </summary>
public sealed partial class ModelVersionWatcher(
    IGrainFactory grains, ServingModel serving, IOptions<ServingOptions> options, ILogger<ModelVersionWatcher> logger) : BackgroundService
{
    private const long BootstrapVersion = 1;
    private long _failedVersion = -1;
    private bool _bootstrapTried;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.PollInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRegistryUnavailable(logger, ex.Message);
            }

            try
            {
                await Task.Delay(interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Loads the registry's current version if it is newer than the served one.</summary>
    public async Task<bool> RefreshAsync()
    {
        var current = await grains.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey).GetCurrentAsync();
        if (current is null && options.Value.BootstrapCheckpoint is { Length: > 0 } bootstrap && !_bootstrapTried)
        {
            // A failure that leaves nothing registered (a timeout under load, a crash between writing
            // and registering) is retried at the next poll; a missing checkpoint is not.
            current = await BootstrapAsync(bootstrap);
        }

        if (current is null || current.Version <= serving.CurrentVersion || current.Version == _failedVersion)
        {
            return false;
        }

        ServingVersion loaded;
        try
        {
            // CPU-bound (weights + index files): off the caller's thread. A version written with index
            // shards is served sharded unless the mode says replicated.
            var sharded = options.Value.Mode != ServingMode.Replicated && Sharding.ShardStore.Exists(current.Path);
            loaded = await Task.Run(() => ModelStore.Load(current, sharded));
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException or FileNotFoundException)
        {
            _failedVersion = current.Version;
            LogVersionRejected(logger, current.Version, current.Path, ex.Message);
            return false;
        }

        if (loaded.Shards > 0)
        {
            await WarmShardsAsync(loaded);
        }

        serving.Publish(loaded);
        LogVersionServing(logger, current.Version, current.Path);
        return true;
    }

    /// <summary>
    /// Activates every shard grain of a sharded version (each loads its files on its silo) before
    /// this silo swaps to it, so the first queries on the version do not wait for loads. Shards that
    /// fail to load within the budget are logged; queries then answer partial until they load.
    /// </summary>
    private async Task WarmShardsAsync(ServingVersion version)
    {
        var warm = Enumerable.Range(0, version.Shards)
            .SelectMany(s => Enumerable.Range(0, options.Value.ShardReplicas).Select(r => (Shard: s, Replica: r)))
            .Select(async x =>
            {
                try
                {
                    await grains.GetGrain<IIndexShardGrain>(IndexShardKey.Format(version.Info.Version, x.Shard, x.Replica)).WarmAsync().WaitAsync(ShardWarmTimeout);
                    return true;
                }
                catch (Exception ex) when (ex is not ArgumentException)
                {
                    LogShardNotWarm(logger, version.Info.Version, x.Shard, x.Replica, ex.Message);
                    return false;
                }
            });
        var results = await Task.WhenAll(warm);
        var warmed = results.Count(r => r);
        LogShardsWarm(logger, version.Info.Version, warmed, results.Length);
    }

    private static readonly TimeSpan ShardWarmTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Publishes the bootstrap checkpoint as the first version (another silo may win the race: fine).</summary>
    private async Task<ModelVersionInfo?> BootstrapAsync(string checkpoint)
    {
        if (!File.Exists(Path.Combine(checkpoint, MIC.Streaming.Model.Training.Checkpoint.ManifestFile)))
        {
            _bootstrapTried = true;
            LogBootstrapMissing(logger, checkpoint);
            return null;
        }

        var registry = grains.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey);
        if (ModelStore.Versions(options.Value.ModelStore) is [.., var written])
        {
            // A version is in the store but the registry is empty: its writer stopped (or timed out)
            // before registering it. Versions are renamed into place complete, so register it.
            return await RegisterWrittenAsync(registry, written);
        }

        try
        {
            var (model, _, dataset, manifest) = await Task.Run(() => MIC.Streaming.Model.Training.Checkpoint.Load(checkpoint));
            using (model)
            {
                // Always version 1: silos that bootstrap at once collide on that one number (rename or
                // registry refuses the loser) instead of each taking the next free number and
                // registering a second bootstrap version.
                var first = await Task.Run(() => ModelPublisher.Write(options.Value.ModelStore, BootstrapVersion, model, dataset, dataset.Sequences, manifest, new Faiss.IndexBuildOptions(), "bootstrap from " + checkpoint, TimeProvider.System,
                    shards: options.Value.ShardsFor((long)dataset.ItemCount + dataset.UserCount)));
                var info = await registry.PublishAsync(first);
                _bootstrapTried = true;
                LogBootstrapped(logger, info.Version, checkpoint);
                return info;
            }
        }
        catch (ArgumentException)
        {
            // Another silo registered the first version meanwhile: follow the registry.
            _bootstrapTried = true;
            return await registry.GetCurrentAsync();
        }
        catch (IOException) when (ModelStore.Versions(options.Value.ModelStore) is [.., var existing])
        {
            // Another silo renamed the same version into place first: make sure it gets registered.
            return await RegisterWrittenAsync(registry, existing);
        }
    }

    private async Task<ModelVersionInfo?> RegisterWrittenAsync(IModelRegistryGrain registry, long version)
    {
        try
        {
            var info = await registry.PublishAsync(new ModelVersionInfo(version, ModelStore.VersionPath(options.Value.ModelStore, version), DateTimeOffset.UtcNow, "bootstrap (registered by a follower silo)"));
            _bootstrapTried = true;
            return info;
        }
        catch (ArgumentException)
        {
            _bootstrapTried = true;
            return await registry.GetCurrentAsync(); // its writer registered it first
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Version {Version}: {Warm} of {Total} index shard grains loaded before the swap")]
    private static partial void LogShardsWarm(ILogger logger, long version, int warm, int total);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Version {Version}: index shard {Shard} replica {Replica} did not load before the swap: {Reason}")]
    private static partial void LogShardNotWarm(ILogger logger, long version, int shard, int replica, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Published bootstrap checkpoint {Checkpoint} as model version {Version}")]
    private static partial void LogBootstrapped(ILogger logger, long version, string checkpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Serving:BootstrapCheckpoint {Checkpoint} has no manifest; waiting for a published version")]
    private static partial void LogBootstrapMissing(ILogger logger, string checkpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving model version {Version} from {Path}")]
    private static partial void LogVersionServing(ILogger logger, long version, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model version {Version} at {Path} was rejected; the previous version keeps serving: {Reason}")]
    private static partial void LogVersionRejected(ILogger logger, long version, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model registry not reachable: {Reason}")]
    private static partial void LogRegistryUnavailable(ILogger logger, string reason);
}
