using System.Numerics.Tensors;
using MIC.Streaming.Core.Baselines;

namespace MIC.Streaming.Retrieval.Channels;

/// <summary>Helpers shared by the channels.</summary>
internal static class ChannelMath
{
    public static float[][] Normalise(float[][] vectors) => vectors.Select(v =>
    {
        var copy = (float[])v.Clone();
        var norm = TensorPrimitives.Norm(copy);
        if (norm > 0)
        {
            TensorPrimitives.Divide(copy, norm, copy);
        }

        return copy;
    }).ToArray();

    /// <summary>User–item relevance: the best cosine over the user's interests (items are unit rows).</summary>
    public static float Relevance(float[][] unitInterests, ReadOnlySpan<float> unitItem)
    {
        var best = float.NegativeInfinity;
        foreach (var q in unitInterests)
        {
            best = Math.Max(best, TensorPrimitives.Dot(q, unitItem));
        }

        return best;
    }

    /// <summary>Top-k of an id → score map, best first.</summary>
    public static Candidate[] Top(Dictionary<int, float> scores, int k, ChannelSet channel)
    {
        if (scores.Count == 0 || k <= 0)
        {
            return [];
        }

        var top = new TopKSelector(Math.Min(k, scores.Count));
        foreach (var (item, score) in scores)
        {
            top.Add(item, score);
        }

        var ids = new int[top.Count];
        var values = new float[top.Count];
        var n = top.Drain(ids, values);
        var result = new Candidate[n];
        for (var i = 0; i < n; i++)
        {
            result[i] = new Candidate(ids[i], values[i], channel);
        }

        return result;
    }
}
