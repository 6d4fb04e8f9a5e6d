namespace MIC.Streaming.Grains;

/// <summary>How much live state user and item grains keep (section "Sequences").</summary>
public sealed class SequenceOptions
{
    public const string SectionName = "Sequences";

    /// <summary>Interactions a user grain keeps (oldest dropped first).</summary>
    public int MaxUserSequence { get; set; } = 200;

    /// <summary>Recent distinct interactors an item grain keeps (for U2U2I and cold start).</summary>
    public int MaxItemInteractors { get; set; } = 50;

    /// <summary>
    /// Distinct field keys a user keeps. New keys beyond it are dropped (counted and logged by the
    /// consumer); existing keys are still updated. Unbounded, 1,300 events with new keys had grown one
    /// user to 9,920 fields (3.25 MB of state, a 391 ms GET).
    /// </summary>
    public int MaxUserFields { get; set; } = 64;

    public IEnumerable<string> Validate()
    {
        if (MaxUserFields is < 0 or > 1_000)
        {
            yield return $"{SectionName}:{nameof(MaxUserFields)} must be in 0..1000 (got {MaxUserFields}).";
        }

        if (MaxUserSequence is < 1 or > 10_000)
        {
            yield return $"{SectionName}:{nameof(MaxUserSequence)} must be in 1..10000 (got {MaxUserSequence}).";
        }

        if (MaxItemInteractors is < 1 or > 10_000)
        {
            yield return $"{SectionName}:{nameof(MaxItemInteractors)} must be in 1..10000 (got {MaxItemInteractors}).";
        }
    }
}
