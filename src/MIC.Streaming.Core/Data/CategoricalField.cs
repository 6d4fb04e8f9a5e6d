namespace MIC.Streaming.Core.Data;

/// <summary>
/// A single-valued categorical field of users or items (e.g. a user segment), stored as one dense
/// value index per entity; -1 means unknown.
/// </summary>
public sealed class CategoricalField(string name, IdVocabulary vocabulary, int[] values)
{
    public string Name { get; } = name;

    public IdVocabulary Vocabulary { get; } = vocabulary;

    public int[] Values { get; } = values;
}
