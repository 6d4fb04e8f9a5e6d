namespace MIC.Streaming.Retrieval.Index;

/// <summary>
/// S shards searched one after another and merged into one top-K (ties: smaller id first). Rows are
/// dealt to shards round-robin, so shards stay balanced and each can be rebuilt or moved on its own.
/// </summary>
public sealed class ShardedIndex : IVectorIndex
{
    private readonly IVectorIndex[] _shards;

    public ShardedIndex(IReadOnlyList<IVectorIndex> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        if (shards.Count == 0 || shards.Any(s => s.Dimension != shards[0].Dimension))
        {
            throw new ArgumentException("Need at least one shard, all of one dimension.", nameof(shards));
        }

        _shards = [.. shards];
    }

    public IReadOnlyList<IVectorIndex> Shards => _shards;

    public int Dimension => _shards[0].Dimension;

    public long Count => _shards.Sum(s => s.Count);

    /// <summary>Splits rows round-robin into <paramref name="shards"/> parts and builds each with <paramref name="build"/>.</summary>
    public static IVectorIndex Build(EmbeddingMatrix vectors, IReadOnlyList<long> ids, int shards, Func<EmbeddingMatrix, long[], IVectorIndex> build)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(build);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        if (shards == 1)
        {
            return build(vectors, [.. ids]);
        }

        var parts = new IVectorIndex[shards];
        var d = vectors.Dimension;
        for (var s = 0; s < shards; s++)
        {
            var rows = Enumerable.Range(0, vectors.Rows).Where(r => r % shards == s).ToArray();
            var data = new float[rows.Length * d];
            for (var i = 0; i < rows.Length; i++)
            {
                vectors.Row(rows[i]).CopyTo(data.AsSpan(i * d, d));
            }

            parts[s] = build(new EmbeddingMatrix(data, d), rows.Select(r => ids[r]).ToArray());
        }

        return new ShardedIndex(parts);
    }

    public int Search(ReadOnlySpan<float> query, int k, Span<SearchHit> hits)
    {
        k = Math.Min(k, hits.Length);
        if (k <= 0)
        {
            return 0;
        }

        var all = new List<SearchHit>(k * _shards.Length);
        var buffer = new SearchHit[k];
        foreach (var shard in _shards)
        {
            var n = shard.Search(query, k, buffer);
            all.AddRange(buffer.AsSpan(0, n));
        }

        all.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Id.CompareTo(b.Id));
        var count = Math.Min(k, all.Count);
        for (var i = 0; i < count; i++)
        {
            hits[i] = all[i];
        }

        return count;
    }

    public void Dispose()
    {
        foreach (var shard in _shards)
        {
            shard.Dispose();
        }
    }
}
