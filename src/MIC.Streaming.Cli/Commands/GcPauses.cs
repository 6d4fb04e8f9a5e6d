using System.Diagnostics;
using System.Globalization;

namespace MIC.Streaming.Cli.Commands;

/// <summary>Garbage collections and total GC pause time over a measured window (pauses stop every thread: they show up in tail latencies).</summary>
internal readonly record struct GcWindow(int Gen0, int Gen1, int Gen2, TimeSpan Paused, long Allocated, long Started, DateTime StartedUtc)
{
    public static GcWindow Start()
    {
        GcPauseListener.EnsureStarted();
        return new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes(), Stopwatch.GetTimestamp(), DateTime.UtcNow);
    }

    private static string Longest(List<(double Ms, string Gc)> pauses)
    {
        if (pauses.Count == 0)
        {
            return "no pause";
        }

        var longest = pauses.MaxBy(p => p.Ms);
        return string.Create(CultureInfo.InvariantCulture, $"longest pause {longest.Ms:F0} ms ({longest.Gc})");
    }

    public string Describe()
    {
        var paused = GC.GetTotalPauseDuration() - Paused;
        var window = Stopwatch.GetElapsedTime(Started);
        var ephemeral = GC.GetGCMemoryInfo(GCKind.Ephemeral);
        var pauses = GcPauseListener.PausesSince(StartedUtc);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"allocated {(GC.GetTotalAllocatedBytes() - Allocated) / 1048576.0:N0} MiB, gen0/1/2 {GC.CollectionCount(0) - Gen0}/{GC.CollectionCount(1) - Gen1}/{GC.CollectionCount(2) - Gen2}, paused {paused.TotalMilliseconds:F0} ms ({paused / window:P1} of {window.TotalSeconds:F0} s; {Longest(pauses)}, {pauses.Count(p => p.Ms > 10)} over 10 ms), {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC, {System.Runtime.GCSettings.LatencyMode}; heap {GC.GetGCMemoryInfo(GCKind.Any).HeapSizeBytes / 1048576.0:F0} MiB; last gen0/1 GC: {ephemeral.PauseDurations[0].TotalMilliseconds:F0} ms, promoted {ephemeral.PromotedBytes / 1048576.0:F1} MiB, {ephemeral.PinnedObjectsCount} pinned");
    }
}

/// <summary>
/// Every GC pause of this process (suspend begin → restart end, from the runtime's GC events), so a
/// window can report its longest pauses: a tail latency is only explained by a GC that long.
/// </summary>
internal sealed class GcPauseListener : System.Diagnostics.Tracing.EventListener
{
    private const int SuspendBegin = 9; // GCSuspendEEBegin_V1
    private const int SuspendEnd = 8;   // GCSuspendEEEnd_V1: every managed thread has stopped
    private const int RestartEnd = 3;   // GCRestartEEEnd_V1
    private const int GcStart = 1;      // GCStart_V2: Depth = generation collected, Type 1 = background
    private static readonly Lock Gate = new();
    private static readonly List<(DateTime End, double Ms, string Gc)> Pauses = [];
    private static GcPauseListener? s_instance;
    private DateTime _suspended;
    private DateTime _stopped;
    private string _lastGc = "?";

    private const int AllocationTick = 10; // GCAllocationTick_V4: one sample per ~100 KB allocated
    private const int MarkWithType = 202;  // GCMarkWithType: bytes marked from one kind of root in one GC
    private static readonly string[] RootKinds = ["stack", "finalizer queue", "handles", "older generation (cards)", "sized refs", "overflow", "dependent handles", "new finalizer queue", "steal", "background"];
    private static readonly Dictionary<string, long> Marked = [];
    private static readonly Dictionary<string, long> Allocations = [];

    /// <summary>Also sample allocations by type (verbose GC events; set before the first window starts).</summary>
    public static bool SampleAllocations { get; set; }

    /// <summary>Bytes the GCs marked live, by the kind of root they were reached from, since the last call; resets the tally.</summary>
    public static List<(string Root, long Bytes)> TakeMarked()
    {
        lock (Gate)
        {
            var result = Marked.OrderByDescending(m => m.Value).Select(m => (m.Key, m.Value)).ToList();
            Marked.Clear();
            return result;
        }
    }

    /// <summary>The types that allocated most since the last call, largest first, and resets the tally.</summary>
    public static List<(string Type, long Bytes)> TakeAllocations(int top)
    {
        lock (Gate)
        {
            var result = Allocations.OrderByDescending(a => a.Value).Take(top).Select(a => (a.Key, a.Value)).ToList();
            Allocations.Clear();
            return result;
        }
    }

    public static void EnsureStarted()
    {
        lock (Gate)
        {
            s_instance ??= new GcPauseListener();
        }
    }

    /// <summary>Pauses that ended after <paramref name="startUtc"/>: length and the GC that caused it ("gen1", "gen2 background", …).</summary>
    public static List<(double Ms, string Gc)> PausesSince(DateTime startUtc)
    {
        lock (Gate)
        {
            return [.. Pauses.Where(p => p.End >= startUtc).Select(p => (p.Ms, p.Gc))];
        }
    }

    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            var level = SampleAllocations ? System.Diagnostics.Tracing.EventLevel.Verbose : System.Diagnostics.Tracing.EventLevel.Informational;
            EnableEvents(eventSource, level, (System.Diagnostics.Tracing.EventKeywords)0x1); // GC keyword
        }
    }

    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs eventData)
    {
        if (eventData.EventId == AllocationTick && eventData.Payload is { } sample && eventData.PayloadNames is { } names)
        {
            var type = sample[names.IndexOf("TypeName")] as string ?? "?";
            var bytes = Convert.ToInt64(sample[names.IndexOf("AllocationAmount64")], CultureInfo.InvariantCulture);
            lock (Gate)
            {
                Allocations[type] = Allocations.GetValueOrDefault(type) + bytes;
            }
        }
        else if (eventData.EventId == MarkWithType && eventData.Payload is { } mark && eventData.PayloadNames is { } markNames)
        {
            var kind = Convert.ToInt32(mark[markNames.IndexOf("Type")], CultureInfo.InvariantCulture);
            var bytes = Convert.ToInt64(mark[markNames.IndexOf("Bytes")], CultureInfo.InvariantCulture);
            var root = (uint)kind < (uint)RootKinds.Length ? RootKinds[kind] : "kind " + kind;
            lock (Gate)
            {
                Marked[root] = Marked.GetValueOrDefault(root) + bytes;
            }
        }
        else if (eventData.EventId == GcStart && eventData.Payload is { Count: > 3 } payload)
        {
            var depth = Convert.ToInt32(payload[1], CultureInfo.InvariantCulture);
            var type = Convert.ToInt32(payload[3], CultureInfo.InvariantCulture);
            _lastGc = "gen" + depth + (type == 1 ? " background" : string.Empty);
        }
        else if (eventData.EventId == SuspendBegin)
        {
            _suspended = eventData.TimeStamp;
            _stopped = default;
            _lastGc = "?";
        }
        else if (eventData.EventId == SuspendEnd)
        {
            _stopped = eventData.TimeStamp;
        }
        else if (eventData.EventId == RestartEnd && _suspended != default)
        {
            // How much of the pause was spent waiting for threads to reach a safe point, not collecting.
            var suspending = _stopped == default ? 0 : (_stopped - _suspended).TotalMilliseconds;
            var what = string.Create(CultureInfo.InvariantCulture, $"{_lastGc}, {suspending:F0} ms of it suspending threads");
            lock (Gate)
            {
                Pauses.Add((eventData.TimeStamp, (eventData.TimeStamp - _suspended).TotalMilliseconds, what));
            }

            _suspended = default;
        }
    }
}
