using System.Net.Sockets;
using System.Runtime.InteropServices;
using MIC.Streaming.Ingestion;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>
/// The mock broker (<c>mic kafka</c>, the demo, these tests) must outlive signals. The .NET runtime
/// handles SIGCONT and SIGCHLD, so a signal can interrupt any thread that does not block it; the
/// mock cluster's thread treats an interrupted poll() as fatal, exits, and the broker refuses every
/// connection from then on while the process lives on. Scripts/chaos.sh pauses the broker with
/// SIGSTOP/SIGCONT: about one run in three lost the broker that way.
/// </summary>
[Collection("cluster")] // alone: no other test's mock broker starts or stops while this one counts threads
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class MockBrokerSignalTests
{
    private const int SigCont = 18;

    [Fact]
    public async Task The_Mock_Broker_Survives_SIGCONT_Sent_To_Its_Own_Thread()
    {
        // Like `mic kafka` (its SigCgt includes SIGCONT): the runtime's handler is installed, so the
        // signal interrupts the receiving thread's system call instead of being ignored.
        using var handler = PosixSignalRegistration.Create(PosixSignal.SIGCONT, _ => { });
        var before = MockThreads();
        using var cluster = new MockKafkaCluster();
        var mockThreads = MockThreads().Except(before).ToList();
        Assert.NotEmpty(mockThreads); // librdkafka names it "rdk:mock"

        for (var i = 0; i < 20; i++)
        {
            foreach (var tid in mockThreads)
            {
                _ = tgkill(Environment.ProcessId, tid, SigCont); // what `kill -CONT` does when this thread is the one to take it
            }

            await Task.Delay(10);
        }

        await Task.Delay(200);
        Assert.All(mockThreads, tid => Assert.True(Directory.Exists($"/proc/self/task/{tid}"), $"the mock cluster's thread {tid} exited"));
        var (host, port) = Split(cluster.BootstrapServers);
        using var client = new TcpClient();
        await client.ConnectAsync(host, port).WaitAsync(TimeSpan.FromSeconds(10)); // refused once the thread is gone
        Assert.True(client.Connected);
    }

    private static HashSet<int> MockThreads() =>
        Directory.EnumerateDirectories("/proc/self/task")
            .Select(dir => (Tid: int.Parse(Path.GetFileName(dir), System.Globalization.CultureInfo.InvariantCulture), Dir: dir))
            .Where(t => ReadName(t.Dir) == "rdk:mock")
            .Select(t => t.Tid)
            .ToHashSet();

    private static string? ReadName(string taskDir)
    {
        try
        {
            return File.ReadAllText(Path.Combine(taskDir, "comm")).Trim();
        }
        catch (IOException)
        {
            return null; // the thread ended meanwhile
        }
    }

    private static (string Host, int Port) Split(string bootstrap)
    {
        var first = bootstrap.Split(',')[0];
        var colon = first.LastIndexOf(':');
        return (first[..colon], int.Parse(first[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    [LibraryImport("libc")]
    private static partial int tgkill(int tgid, int tid, int sig);
}
