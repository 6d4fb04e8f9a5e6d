using System.Diagnostics;
using System.Globalization;

namespace MIC.Streaming.Cli.Commands;

/// <summary>
/// What else can stall requests in a window: a thread that samples every 5 ms records the thread
/// pool's longest queue and thread count, its own longest wake-up delay (a thread not scheduled for
/// that long means the cores were busy or taken) and the machine's CPU steal time (/proc/stat).
/// </summary>
internal sealed class StallProbe : IDisposable
{
    private readonly Thread _thread;
    private readonly long _stealAtStart = Steal();
    private readonly int _threadsAtStart = ThreadPool.ThreadCount;
    private readonly TimeSpan _cpuAtStart = Environment.CpuUsage.TotalTime;
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private readonly long _jittedAtStart = System.Runtime.JitInfo.GetCompiledMethodCount();
    private readonly TimeSpan _jitTimeAtStart = System.Runtime.JitInfo.GetCompilationTime();
    private volatile bool _stop;
    private long _maxQueue;
    private int _maxThreads;
    private double _longestGapMs;
    private int _gapsOver20Ms;

    public StallProbe()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "stall-probe", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    private void Run()
    {
        var last = Stopwatch.GetTimestamp();
        while (!_stop)
        {
            Thread.Sleep(5);
            var now = Stopwatch.GetTimestamp();
            var gap = Stopwatch.GetElapsedTime(last, now).TotalMilliseconds - 5;
            last = now;
            _longestGapMs = Math.Max(_longestGapMs, gap);
            _gapsOver20Ms += gap > 20 ? 1 : 0;
            _maxQueue = Math.Max(_maxQueue, ThreadPool.PendingWorkItemCount);
            _maxThreads = Math.Max(_maxThreads, ThreadPool.ThreadCount);
        }
    }

    /// <summary>Stops sampling and describes the window.</summary>
    public string Describe()
    {
        _stop = true;
        _thread.Join();
        var steal = Steal();
        var stealText = steal < 0 || _stealAtStart < 0 ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"{(steal - _stealAtStart) * 10} ms");
        var cpu = (Environment.CpuUsage.TotalTime - _cpuAtStart) / Stopwatch.GetElapsedTime(_startedAt) / Environment.ProcessorCount;
        var jitted = System.Runtime.JitInfo.GetCompiledMethodCount() - _jittedAtStart;
        var jitTime = System.Runtime.JitInfo.GetCompilationTime() - _jitTimeAtStart;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"longest thread-pool queue {_maxQueue}, pool threads {_threadsAtStart} → max {_maxThreads}; a 5 ms sleeper woke up to {_longestGapMs:F0} ms late ({_gapsOver20Ms} times > 20 ms); CPU steal {stealText}; this process used {cpu:P0} of the cores; JIT compiled {jitted:N0} methods in {jitTime.TotalMilliseconds:F0} ms");
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }

    /// <summary>Steal time of all CPUs in clock ticks (1/100 s), or −1 where /proc/stat is not there.</summary>
    private static long Steal()
    {
        try
        {
            var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return cpu.Length > 8 ? long.Parse(cpu[8], CultureInfo.InvariantCulture) : -1;
        }
        catch (IOException)
        {
            return -1;
        }
    }
}
