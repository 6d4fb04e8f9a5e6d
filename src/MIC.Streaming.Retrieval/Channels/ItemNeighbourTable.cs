using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Retrieval.Channels;

/// <summary>
/// Each item's top-M neighbours in the item space (self excluded, best first), computed once per
/// model version with batched index searches; the I2I lookup table production recommenders keep.
/// Row i holds <see cref="Width"/> slots; unused slots have id −1.
/// </summary>
public sealed class ItemNeighbourTable
{
    public ItemNeighbourTable(int[] ids, float[] similarities, int width)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(similarities);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (ids.Length != similarities.Length || ids.Length % width != 0)
        {
            throw new ArgumentException("ids and similarities must be [items, width].");
        }

        Ids = ids;
        Similarities = similarities;
        Width = width;
    }

    public int[] Ids { get; }

    public float[] Similarities { get; }

    public int Width { get; }

    public int Items => Ids.Length / Width;

    /// <summary>Computes the table by searching <paramref name="index"/> with every item's own vector, in batches.</summary>
    public static ItemNeighbourTable Build(IVectorIndex index, EmbeddingMatrix items, int width, int batch = 256)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(items);
        var n = items.Rows;
        var ids = new int[n * width];
        var sims = new float[n * width];
        Array.Fill(ids, -1);
        var k = width + 1; // the item itself usually comes back first
        Parallel.For(0, (n + batch - 1) / batch, b =>
        {
            var start = b * batch;
            var count = Math.Min(batch, n - start);
            var hits = new SearchHit[count * k];
            var counts = new int[count];
            index.SearchMany(items.Data.AsSpan(start * items.Dimension, count * items.Dimension), k, hits, counts);
            for (var q = 0; q < count; q++)
            {
                var item = start + q;
                var slot = 0;
                for (var i = 0; i < counts[q] && slot < width; i++)
                {
                    var hit = hits[(q * k) + i];
                    if (hit.Id != item)
                    {
                        ids[(item * width) + slot] = (int)hit.Id;
                        sims[(item * width) + slot] = hit.Score;
                        slot++;
                    }
                }
            }
        });
        return new ItemNeighbourTable(ids, sims, width);
    }
}
