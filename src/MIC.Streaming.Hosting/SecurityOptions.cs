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

    /// <summary>Accepted keys; empty = authentication off (the demo and local runs).</summary>
    public string[] ApiKeys { get; set; } = [];

    /// <summary>Candidate requests per second per client (API key, else remote address); 0 = unlimited.</summary>
    public int CandidatesPerSecond { get; set; } = 2000;

    /// <summary>Burst above the steady rate.</summary>
    public int CandidatesBurst { get; set; } = 200;

    public bool AuthenticationEnabled => ApiKeys.Length > 0;

    public IEnumerable<string> Validate()
    {
        if (ApiKeys.Any(k => string.IsNullOrWhiteSpace(k) || k.Length < 16))
        {
            yield return $"{SectionName}:{nameof(ApiKeys)} entries must be at least 16 characters.";
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
