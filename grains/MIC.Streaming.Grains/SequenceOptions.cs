namespace MIC.Streaming.Grains;

/// <summary>How much live state user and item grains keep (section "Sequences").</summary>
public sealed class SequenceOptions
{
    public const string SectionName = "Sequences";

    /// <summary>Interactions a user grain keeps (oldest dropped first).</summary>
    public int MaxUserSequence { get; set; } = 200;

    /// <summary>Recent distinct interactors an item grain keeps (for U2U2I and cold start).</summary>
    public int MaxItemInteractors { get; set; } = 50;

    public IEnumerable<string> Validate()
    {
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
