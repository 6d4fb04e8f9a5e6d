using System.Diagnostics;
using System.Net.Sockets;

namespace MIC.Streaming.Cli.Streaming;

/// <summary>A throwaway redis-server (no disk persistence) on a free loopback port, for benchmarks.</summary>
internal sealed class RedisProcess : IDisposable
{
    private readonly Process _process;

    public RedisProcess()
    {
        Port = LocalSilo.FreePort();
        var binary = File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server"
            : throw new InvalidOperationException("redis-server is not installed: run scripts/prereqs.sh (Debian package redis-server), or pass --redis HOST:PORT.");
        _process = Process.Start(new ProcessStartInfo(binary, $"--bind 127.0.0.1 --port {Port} --save \"\" --appendonly no --loglevel warning")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("redis-server did not start.");
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient("127.0.0.1", Port);
                break;
            }
            catch (SocketException) when (watch.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Sleep(50);
            }
        }
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }

        _process.Dispose();
    }
}
