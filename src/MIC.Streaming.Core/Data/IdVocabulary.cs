namespace MIC.Streaming.Core.Data;

/// <summary>
/// Maps raw external ids (as they appear in a source file or event) to dense indices 0..Count-1
/// and back. Dense indices are what every array in the system is indexed by; the reverse map is
/// kept so results can be reported in the dataset's own ids.
/// </summary>
public sealed class IdVocabulary
{
    private readonly Dictionary<string, int> _index;
    private readonly List<string> _raw;

    public IdVocabulary(int capacity = 0)
    {
        _index = new Dictionary<string, int>(capacity, StringComparer.Ordinal);
        _raw = new List<string>(capacity);
    }

    public int Count => _raw.Count;

    /// <summary>Returns the dense index of <paramref name="rawId"/>, adding it when new.</summary>
    public int GetOrAdd(string rawId)
    {
        if (_index.TryGetValue(rawId, out var idx))
        {
            return idx;
        }

        idx = _raw.Count;
        _index.Add(rawId, idx);
        _raw.Add(rawId);
        return idx;
    }

    /// <summary>Span overload: looks up without allocating a string for ids already known.</summary>
    public int GetOrAdd(ReadOnlySpan<char> rawId)
    {
        var lookup = _index.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(rawId, out var idx))
        {
            return idx;
        }

        return GetOrAdd(rawId.ToString());
    }

    public bool TryGetIndex(ReadOnlySpan<char> rawId, out int index) =>
        _index.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(rawId, out index);

    public string GetRaw(int index) => _raw[index];

    public IReadOnlyList<string> RawIds => _raw;

    /// <summary>A new vocabulary holding only the kept indices, in their current order.</summary>
    public IdVocabulary Subset(ReadOnlySpan<bool> keep, out int[] oldToNew)
    {
        oldToNew = new int[_raw.Count];
        var result = new IdVocabulary();
        for (var i = 0; i < _raw.Count; i++)
        {
            oldToNew[i] = keep[i] ? result.GetOrAdd(_raw[i]) : -1;
        }

        return result;
    }

    /// <summary>Approximate managed bytes held (strings + maps), for memory reports.</summary>
    public long EstimatedBytes()
    {
        long bytes = 0;
        foreach (var s in _raw)
        {
            bytes += 22 + (2L * s.Length); // string header + UTF-16 chars
        }

        return bytes + (_raw.Count * (8L + 24L)); // list slot + dictionary entry
    }
}
