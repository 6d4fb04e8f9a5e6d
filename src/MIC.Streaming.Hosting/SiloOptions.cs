namespace MIC.Streaming.Hosting;

/// <summary>Section "Silo": how this silo joins the cluster and where state lives.</summary>
public sealed class SiloOptions
{
    public const string SectionName = "Silo";

    /// <summary>"Localhost" (one process / dev) or "Redis" (membership table in Redis, several silos).</summary>
    public string Clustering { get; set; } = "Localhost";

    /// <summary>"Memory" (demo only: lost on exit) or "Redis".</summary>
    public string Storage { get; set; } = "Memory";

    /// <summary>StackExchange.Redis configuration string, e.g. "127.0.0.1:6379". Required when Redis is used.</summary>
    public string? Redis { get; set; }

    public string ClusterId { get; set; } = "mic";

    public string ServiceId { get; set; } = "mic-streaming";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>Directory of published model versions (a mounted volume shared by the silos).</summary>
    public string ModelStore { get; set; } = "model-store";

    /// <summary>Response timeout of grain calls (lowered from Orleans' 30 s so a dead silo stalls nobody for long).</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// In Kubernetes: cluster/service ids and the advertised address come from the pod (downward
    /// API env POD_NAME, POD_NAMESPACE, POD_IP, ORLEANS_SERVICE_ID, ORLEANS_CLUSTER_ID), and silos
    /// whose pods are gone are declared dead at once. Membership stays in Redis.
    /// </summary>
    public bool KubernetesHosting { get; set; }

    /// <summary>Serve the Orleans Dashboard at /dashboard (behind the API keys when they are set).</summary>
    public bool Dashboard { get; set; }

    /// <summary>
    /// Comma-separated roles: "serving" (Kafka ingestion into user/item grains; every silo serves
    /// candidates) and/or "trainer" (may host the streaming trainer grain; Trainer section).
    /// </summary>
    public string Roles { get; set; } = "serving";

    public bool HasRole(string role) =>
        Roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Contains(role, StringComparer.OrdinalIgnoreCase);

    public bool UsesRedis => Clustering.Equals("Redis", StringComparison.OrdinalIgnoreCase) || Storage.Equals("Redis", StringComparison.OrdinalIgnoreCase);

    public IEnumerable<string> Validate()
    {
        if (!Clustering.Equals("Localhost", StringComparison.OrdinalIgnoreCase) && !Clustering.Equals("Redis", StringComparison.OrdinalIgnoreCase))
        {
            yield return $"{SectionName}:{nameof(Clustering)} must be Localhost or Redis (got '{Clustering}').";
        }

        if (!Storage.Equals("Memory", StringComparison.OrdinalIgnoreCase) && !Storage.Equals("Redis", StringComparison.OrdinalIgnoreCase))
        {
            yield return $"{SectionName}:{nameof(Storage)} must be Memory or Redis (got '{Storage}').";
        }

        if (UsesRedis && string.IsNullOrWhiteSpace(Redis))
        {
            yield return $"{SectionName}:{nameof(Redis)} is required when Clustering or Storage is Redis (e.g. 127.0.0.1:6379).";
        }

        if (KubernetesHosting && !Clustering.Equals("Redis", StringComparison.OrdinalIgnoreCase))
        {
            yield return $"{SectionName}:{nameof(KubernetesHosting)} needs {SectionName}:{nameof(Clustering)}=Redis (membership lives in Redis).";
        }

        var roles = Roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (roles.Length == 0 || roles.Any(r => !r.Equals("serving", StringComparison.OrdinalIgnoreCase) && !r.Equals("trainer", StringComparison.OrdinalIgnoreCase)))
        {
            yield return $"{SectionName}:{nameof(Roles)} must list serving and/or trainer, comma-separated (got '{Roles}').";
        }

        if (SiloPort is < 1 or > 65535)
        {
            yield return $"{SectionName}:{nameof(SiloPort)} must be a TCP port (got {SiloPort}).";
        }

        if (GatewayPort is < 1 or > 65535 || GatewayPort == SiloPort)
        {
            yield return $"{SectionName}:{nameof(GatewayPort)} must be a TCP port other than {nameof(SiloPort)} (got {GatewayPort}).";
        }

        if (string.IsNullOrWhiteSpace(ClusterId) || string.IsNullOrWhiteSpace(ServiceId))
        {
            yield return $"{SectionName}:{nameof(ClusterId)} and {SectionName}:{nameof(ServiceId)} are required.";
        }

        if (string.IsNullOrWhiteSpace(ModelStore))
        {
            yield return $"{SectionName}:{nameof(ModelStore)} is required (a directory).";
        }

        if (ResponseTimeout < TimeSpan.FromSeconds(1) || ResponseTimeout > TimeSpan.FromMinutes(5))
        {
            yield return $"{SectionName}:{nameof(ResponseTimeout)} must be between 00:00:01 and 00:05:00 (got {ResponseTimeout}).";
        }
    }
}

/// <summary>Section "Api": request limits.</summary>
public sealed class ApiOptions
{
    public const string SectionName = "Api";

    public int DefaultK { get; set; } = 50;

    /// <summary>Larger k is clamped to this.</summary>
    public int MaxK { get; set; } = 500;

    public IEnumerable<string> Validate()
    {
        if (MaxK is < 1 or > 10_000)
        {
            yield return $"{SectionName}:{nameof(MaxK)} must be in 1..10000 (got {MaxK}).";
        }

        if (DefaultK < 1 || DefaultK > MaxK)
        {
            yield return $"{SectionName}:{nameof(DefaultK)} must be in 1..{nameof(MaxK)} (got {DefaultK}).";
        }
    }
}
