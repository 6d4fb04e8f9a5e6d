using Microsoft.Extensions.Logging;

namespace MIC.Streaming.Trainer;

internal static partial class TrainerLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Trainer starts from scratch: a first {Encoder} model after {Events} events")]
    public static partial void FromScratch(ILogger logger, int events, string encoder);

    [LoggerMessage(Level = LogLevel.Information, Message = "Trainer resumed from model version {Version}: {Events} events seen, {Partitions} partition positions, {Window} window examples")]
    public static partial void Resumed(ILogger logger, long version, long events, int partitions, int window);

    [LoggerMessage(Level = LogLevel.Information, Message = "Update {Update}: {New} new + {Replayed} replayed examples, {Steps} steps in {Seconds:F1} s ({Grow:F1} s growing tables, grew: {Grew}; {Support:F1} s rebuilding support sets); {Users} users, {Items} items")]
    public static partial void Updated(ILogger logger, int update, int @new, int replayed, int steps, double seconds, double grow, double support, bool grew, int users, int items);

    [LoggerMessage(Level = LogLevel.Information, Message = "Published model version {Version} in {Seconds:F1} s ({Pruned} old versions pruned)")]
    public static partial void Published(ILogger logger, long version, int pruned, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trainer update or publish failed, retrying (weights and window kept): {Reason}")]
    public static partial void UpdateFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trainer offset commit (monitoring only) failed: {Reason}")]
    public static partial void CommitFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model version {Version} was published while the trainer collected events for a first model: restarting from it")]
    public static partial void VersionAppeared(ILogger logger, long version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Trainer loop started on silo {Silo}")]
    public static partial void Started(ILogger logger, string silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Trainer runs libtorch on {Device} with {Threads} threads; freed tensor buffers reused between steps: {Reuse} (glibc mmap threshold {MmapThresholdMiB} MiB; 0 = glibc's own)")]
    public static partial void Runtime(ILogger logger, TorchSharp.DeviceType device, int threads, int mmapThresholdMiB, bool reuse);

    [LoggerMessage(Level = LogLevel.Error, Message = "Trainer loop stopped with an error; the next keep-alive restarts it from the last version: {Reason}")]
    public static partial void Crashed(ILogger logger, Exception exception, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trainer keep-alive failed: {Reason}")]
    public static partial void KeepAliveFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Trainer:MaxUsers reached: {Evicted} least recently active users forgotten ({Dropped} replay examples with them); {Kept} users kept")]
    public static partial void UsersEvicted(ILogger logger, int evicted, int dropped, int kept);
}
