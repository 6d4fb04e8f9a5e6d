using System.Reflection;
using System.Runtime.InteropServices;

namespace MIC.Streaming.Ingestion;

/// <summary>
/// librdkafka's built-in mock cluster: real Kafka protocol on loopback, for tests and the
/// one-process demo (no broker is needed). Owns a native producer handle that hosts the brokers;
/// any Kafka client connects with <see cref="BootstrapServers"/>. Topics are created through the
/// mock API because the mock does not implement CreateTopics. Not for production: retention is
/// the newest ~5 MiB or 100k message sets per partition.
/// </summary>
public sealed partial class MockKafkaCluster : IDisposable
{
    private const string Library = "rdkafka";
    private readonly KafkaHandle _handle;
    private readonly nint _cluster;

    static MockKafkaCluster() => NativeLibrary.SetDllImportResolver(typeof(MockKafkaCluster).Assembly, Resolve);

    public MockKafkaCluster(int brokers = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        var conf = rd_kafka_conf_new();
        Set(conf, "test.mock.num.brokers", brokers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set(conf, "log_level", "3");
        var error = new byte[512];
        var rk = WithSignalsBlocked(() => rd_kafka_new(0, conf, error, (nuint)error.Length)); // RD_KAFKA_PRODUCER; takes ownership of conf
        if (rk == 0)
        {
            throw new InvalidOperationException("librdkafka could not start the mock cluster: " + Text(error));
        }

        _handle = new KafkaHandle(rk);
        _cluster = rd_kafka_handle_mock_cluster(rk);
        if (_cluster == 0)
        {
            _handle.Dispose();
            throw new InvalidOperationException("librdkafka did not create a mock cluster.");
        }

        BootstrapServers = Marshal.PtrToStringUTF8(rd_kafka_mock_cluster_bootstraps(_cluster))
            ?? throw new InvalidOperationException("The mock cluster reported no bootstrap servers.");

        // Consumer groups would otherwise wait 3 s before their first assignment.
        rd_kafka_mock_group_initial_rebalance_delay_ms(_cluster, 0);
    }

    public string BootstrapServers { get; }

    /// <summary>Creates a topic (replication factor 1).</summary>
    public void CreateTopic(string topic, int partitions)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var err = rd_kafka_mock_topic_create(_cluster, topic, partitions, 1);
        if (err != 0)
        {
            throw new InvalidOperationException($"Mock topic '{topic}' was not created: {Marshal.PtrToStringUTF8(rd_kafka_err2str(err))}.");
        }
    }

    public void Dispose() => _handle.Dispose();

    /// <summary>
    /// Runs <paramref name="create"/> with every signal blocked on this thread, so the threads it
    /// starts inherit that mask. librdkafka blocks signals for its own threads, but it starts the
    /// mock cluster's thread before doing so; that thread then takes signals the .NET runtime
    /// handles (SIGCONT, SIGCHLD), and an interrupted poll() makes it exit: the process lives on, its
    /// broker refuses every connection. (Seen after `kill -STOP`/`kill -CONT` of `mic kafka`.)
    /// </summary>
    private static nint WithSignalsBlocked(Func<nint> create)
    {
        if (!OperatingSystem.IsLinux())
        {
            return create();
        }

        Span<byte> all = stackalloc byte[SigSetBytes];
        Span<byte> previous = stackalloc byte[SigSetBytes];
        Span<byte> ignored = stackalloc byte[SigSetBytes];
        if (sigfillset(all) != 0 || pthread_sigmask(SigSetMask, all, previous) != 0)
        {
            throw new InvalidOperationException("Could not block signals while starting the mock cluster.");
        }

        try
        {
            return create();
        }
        finally
        {
            _ = pthread_sigmask(SigSetMask, previous, ignored);
        }
    }

    /// <summary>glibc's sigset_t (1024 bits), larger than the kernel's; SIG_SETMASK is 2 on Linux.</summary>
    private const int SigSetBytes = 128, SigSetMask = 2;

    [LibraryImport("libc")]
    private static partial int sigfillset(Span<byte> set);

    [LibraryImport("libc")]
    private static partial int pthread_sigmask(int how, ReadOnlySpan<byte> set, Span<byte> oldSet);

    private static void Set(nint conf, string name, string value)
    {
        var error = new byte[512];
        if (rd_kafka_conf_set(conf, name, value, error, (nuint)error.Length) != 0)
        {
            throw new InvalidOperationException($"librdkafka rejected {name}={value}: {Text(error)}");
        }
    }

    private static string Text(byte[] buffer)
    {
        var end = Array.IndexOf(buffer, (byte)0);
        return System.Text.Encoding.UTF8.GetString(buffer, 0, end < 0 ? buffer.Length : end);
    }

    /// <summary>
    /// Finds the librdkafka that Confluent.Kafka ships. Its default Linux build needs libsasl2.so.3,
    /// absent on Debian 12; the centos8 build next to it works (the same fallback Confluent.Kafka uses).
    /// </summary>
    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library)
        {
            return 0;
        }

        var native = Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier.StartsWith("linux-arm64", StringComparison.Ordinal) ? "linux-arm64" : "linux-x64", "native");
        string[] candidates =
        [
            Path.Combine(native, "librdkafka.so"),
            Path.Combine(native, "centos8-librdkafka.so"),
            Path.Combine(AppContext.BaseDirectory, "librdkafka.so"),
            "librdkafka.so.1",
            "librdkafka.so",
        ];
        foreach (var candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out var handle))
            {
                return handle;
            }
        }

        return 0;
    }

    private sealed class KafkaHandle : SafeHandle
    {
        public KafkaHandle(nint handle) : base(0, ownsHandle: true) => SetHandle(handle);

        public override bool IsInvalid => handle == 0;

        protected override bool ReleaseHandle()
        {
            rd_kafka_destroy(handle);
            return true;
        }
    }

    [LibraryImport(Library)]
    private static partial nint rd_kafka_conf_new();

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rd_kafka_conf_set(nint conf, string name, string value, [Out] byte[] errstr, nuint errstrSize);

    [LibraryImport(Library)]
    private static partial nint rd_kafka_new(int type, nint conf, [Out] byte[] errstr, nuint errstrSize);

    [LibraryImport(Library)]
    private static partial void rd_kafka_destroy(nint rk);

    [LibraryImport(Library)]
    private static partial nint rd_kafka_handle_mock_cluster(nint rk);

    [LibraryImport(Library)]
    private static partial nint rd_kafka_mock_cluster_bootstraps(nint mcluster);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rd_kafka_mock_topic_create(nint mcluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(Library)]
    private static partial void rd_kafka_mock_group_initial_rebalance_delay_ms(nint mcluster, int delayMs);

    [LibraryImport(Library)]
    private static partial nint rd_kafka_err2str(int err);
}
