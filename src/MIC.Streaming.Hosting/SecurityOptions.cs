namespace MIC.Streaming.Hosting;

/// <summary>
/// Section "Security": API keys for /v1 (health, metrics and the OpenAPI document stay open) and
/// the per-client rate limit of the candidates endpoint. Keys come from configuration (an
/// environment variable or a mounted secret), never from the image or default values.
/// </summary>
public sealed class SecurityOptions
{
    public const string SectionName = "Security";
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>Admin keys: everything (read, write events, roll back, the dashboard). Empty in every list = authentication off (the demo and local runs).</summary>
    public string[] ApiKeys { get; set; } = [];

    /// <summary>Read-only keys: candidates, users, items, the model status.</summary>
    public string[] ReadKeys { get; set; } = [];

    /// <summary>Producer keys: what read keys may, plus POST /v1/events.</summary>
    public string[] WriteKeys { get; set; } = [];

    /// <summary>Requests per second to /v1 per client (a valid API key, else the remote address: invalid keys share their address's budget); 0 = unlimited.</summary>
    public int CandidatesPerSecond { get; set; } = 2000;

    /// <summary>Burst above the steady rate.</summary>
    public int CandidatesBurst { get; set; } = 200;

    public bool AuthenticationEnabled => ApiKeys.Length + ReadKeys.Length + WriteKeys.Length > 0;

    /// <summary>The scope a presented key grants (constant-time comparison against every key); null when it matches none.</summary>
    public ApiScope? ScopeOf(string presented)
    {
        ApiScope? scope = null;
        foreach (var (keys, granted) in new[] { (ApiKeys, ApiScope.Admin), (WriteKeys, ApiScope.Write), (ReadKeys, ApiScope.Read) })
        {
            if (ApiSecurity.Matches(keys, presented) && (scope is null || granted > scope))
            {
                scope = granted;
            }
        }

        return scope;
    }

    public IEnumerable<string> Validate()
    {
        foreach (var (name, keys) in new[] { (nameof(ApiKeys), ApiKeys), (nameof(ReadKeys), ReadKeys), (nameof(WriteKeys), WriteKeys) })
        {
            if (keys.Any(k => string.IsNullOrWhiteSpace(k) || k.Length < 16))
            {
                yield return $"{SectionName}:{name} entries must be at least 16 characters.";
            }
        }

        if (ApiKeys.Concat(ReadKeys).Concat(WriteKeys).GroupBy(k => k, StringComparer.Ordinal).Any(g => g.Count() > 1))
        {
            yield return $"{SectionName}: a key appears twice across {nameof(ApiKeys)}, {nameof(WriteKeys)} and {nameof(ReadKeys)}; give each key one scope.";
        }

        if (CandidatesPerSecond < 0)
        {
            yield return $"{SectionName}:{nameof(CandidatesPerSecond)} must be ≥ 0 (0 = unlimited).";
        }

        if (CandidatesBurst < 1)
        {
            yield return $"{SectionName}:{nameof(CandidatesBurst)} must be ≥ 1.";
        }
    }
}

/// <summary>What an API key may do; each scope includes the ones below it.</summary>
public enum ApiScope
{
    Read = 1,
    Write = 2,
    Admin = 3,
}
