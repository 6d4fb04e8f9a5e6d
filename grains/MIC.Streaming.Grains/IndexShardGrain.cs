using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Runtime;
using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Grains.Serving.Sharding;

namespace MIC.Streaming.Grains;

/// <summary>
/// Serves one shard of one version (<see cref="IIndexShardGrain"/>): loads only that shard's files
/// from the model store when it activates, then answers the two hops of sharded queries. Placed by
/// <see cref="ShardSpreadPlacement"/>. Reentrant, and the searches run on the thread pool, so one
/// shard answers several queries at once (its data is immutable). A shard of a superseded version
/// deactivates once it has had no query for <see cref="ServingOptions.ShardRetireAfter"/>: silos
/// still finishing queries on the old version keep it alive until they are done.
/// </summary>
[ShardSpreadPlacement]
[Reentrant]
public sealed partial class IndexShardGrain(
    IOptions<ServingOptions> options,
    ServingInstruments instruments,
    ILocalSiloDetails silo,
    TimeProvider time,
    ILogger<IndexShardGrain> logger) : Grain, IIndexShardGrain
{
    private SpaceShard? _shard;
    private long _lastCall;
    private IGrainTimer? _retire;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var (version, shard, _) = IndexShardKey.Parse(this.GetPrimaryKeyString());
        var path = ModelStore.VersionPath(options.Value.ModelStore, version);
        var started = time.GetTimestamp();
        _shard = await Task.Run(() => ShardStore.Load(path, shard, version), cancellationToken);
        instruments.ShardLoaded(_shard.Bytes);
        var elapsed = time.GetElapsedTime(started).TotalMilliseconds;
        Log.Loaded(logger, version, shard, _shard.Items, _shard.UserIds.Length, _shard.Bytes, elapsed);
        _lastCall = time.GetTimestamp();
        var check = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, options.Value.ShardRetireAfter.Ticks / 3));
        _retire = this.RegisterGrainTimer(RetireIfSupersededAsync, new GrainTimerCreationOptions(check, check) { Interleave = true });
        await base.OnActivateAsync(cancellationToken);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _retire?.Dispose();
        if (_shard is { } shard)
        {
            instruments.ShardUnloaded(shard.Bytes);
            shard.Dispose();
            _shard = null;
        }

        return base.OnDeactivateAsync(reason, cancellationToken);
    }

    public Task<ShardInfo> WarmAsync()
    {
        _lastCall = time.GetTimestamp();
        return Task.FromResult(Shard.Info(silo.Name));
    }

    public Task<ShardProbeReply> ProbeAsync(ShardProbe probe)
    {
        _lastCall = time.GetTimestamp();
        var shard = Shard;
        return Task.Run(() => shard.Probe(probe));
    }

    public Task<ShardScoreReply> ScoreAsync(ShardScoreRequest request)
    {
        _lastCall = time.GetTimestamp();
        var shard = Shard;
        return Task.Run(() => shard.Score(request));
    }

    private SpaceShard Shard => _shard ?? throw new InvalidOperationException("The shard is not loaded.");

    private async Task RetireIfSupersededAsync(CancellationToken cancellationToken)
    {
        if (_shard is not { } shard || time.GetElapsedTime(_lastCall) < options.Value.ShardRetireAfter)
        {
            return;
        }

        var current = await GrainFactory.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey).GetCurrentAsync();
        if (current is not null && current.Version > shard.Version)
        {
            Log.Retired(logger, shard.Version, shard.Shard, current.Version);
            this.DeactivateOnIdle();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Index shard {Shard} of version {Version} loaded: {Items} items, {Users} users, {Bytes} bytes in {Milliseconds:F0} ms")]
        public static partial void Loaded(ILogger logger, long version, int shard, int items, int users, long bytes, double milliseconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "Index shard {Shard} of version {Version} retired: version {Current} is current and it had no query")]
        public static partial void Retired(ILogger logger, long version, int shard, long current);
    }
}
