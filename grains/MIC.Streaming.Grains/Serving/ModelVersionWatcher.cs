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

    public IEnumerable<string> Validate()
    {
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
            // CPU-bound (weights + index files): off the caller's thread.
            loaded = await Task.Run(() => ModelStore.Load(current));
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException or FileNotFoundException)
        {
            _failedVersion = current.Version;
            LogVersionRejected(logger, current.Version, current.Path, ex.Message);
            return false;
        }

        serving.Publish(loaded);
        LogVersionServing(logger, current.Version, current.Path);
        return true;
    }

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
                var first = await Task.Run(() => ModelPublisher.Write(options.Value.ModelStore, BootstrapVersion, model, dataset, dataset.Sequences, manifest, new Faiss.IndexBuildOptions(), "bootstrap from " + checkpoint, TimeProvider.System));
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
