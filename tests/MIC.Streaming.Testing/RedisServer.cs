using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace MIC.Streaming.Testing;

/// <summary>
/// A real redis-server on a free loopback port, no persistence to disk, stopped on dispose.
/// (scripts/prereqs.sh installs Debian's redis-server.)
/// </summary>
public sealed class RedisServer : IDisposable
{
    private static readonly string[] Binaries = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"];
    private readonly Process _process;

    public RedisServer()
    {
        Port = FreePort();
        var binary = Binaries.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server is not installed: run scripts/prereqs.sh (Debian package redis-server).");
        _process = Process.Start(new ProcessStartInfo(binary, $"--bind 127.0.0.1 --port {Port} --save \"\" --appendonly no --daemonize no --loglevel warning")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (!CanConnect(Port))
        {
            if (_process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new InvalidOperationException($"redis-server did not listen on port {Port}.");
            }

            Thread.Sleep(50);
        }
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool CanConnect(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
