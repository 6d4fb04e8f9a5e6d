using System.Numerics.Tensors;
using MIC.Streaming.Core.Metrics;
using MIC.Streaming.Core.Splits;

namespace MIC.Streaming.Model.Training;

/// <summary>
/// The geometry of a trained model's U2I space (paper Fig. 4; Wang &amp; Isola 2020) and of its
/// multi-interest users, measured on evaluation users.
/// </summary>
/// <param name="Alignment">E‖u − i‖² over (user, target item) positive pairs in the relevance space; the user's interest nearest the item stands for a multi-interest user. Lower is better.</param>
/// <param name="UserUniformity">log E exp(−2‖u − u'‖²) over pairs of evaluation users' relevance vectors (interest mean). Lower is more uniform.</param>
/// <param name="ItemUniformity">The same over the catalogue's item relevance vectors.</param>
/// <param name="InterestCosine">Mean pairwise cosine between a user's K own-space interests (null for K = 1): lower = more diverse interests.</param>
/// <param name="InterestEntropy">Normalised entropy of the interest weights (<see cref="ModelEmbeddings.InterestEntropy"/>; null for K = 1 and for runs measured before it existed).</param>
public sealed record RepresentationReport(double Alignment, double UserUniformity, double ItemUniformity, double? InterestCosine, double? InterestEntropy = null)
{
    /// <summary>Pairs sampled for each uniformity (all pairs when fewer).</summary>
    public const int UniformityPairs = 200_000;

    public static RepresentationReport Measure(ModelEmbeddings embeddings, IReadOnlyList<EvalCase> cases, int seed = 2020)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(cases);
        if (cases.Count < 2)
        {
            throw new ArgumentException("Need at least two evaluation users.", nameof(cases));
        }

        var d = embeddings.Dimension;
        var (_, itemRel) = embeddings.Items();
        var queries = embeddings.Encode(cases.Select(c => (ReadOnlyMemory<int>)c.History).ToArray(), cases.Select(c => c.User).ToArray());
        var users = new float[cases.Count * d];
        var pairUsers = new List<float>();
        var pairItems = new List<float>();
        double cosineSum = 0;
        long cosinePairs = 0;
        for (var c = 0; c < cases.Count; c++)
        {
            var q = queries[c];
            var row = users.AsSpan(c * d, d);
            foreach (var v in q.RelevanceInterests)
            {
                TensorPrimitives.Add(row, v, row);
            }

            TensorPrimitives.Divide(row, q.RelevanceInterests.Length, row);
            foreach (var target in cases[c].Targets.Distinct())
            {
                if ((uint)target >= (uint)itemRel.Rows)
                {
                    continue;
                }

                var item = itemRel.Data.AsSpan(target * d, d);
                var best = q.RelevanceInterests[0];
                var bestCosine = float.NegativeInfinity;
                foreach (var v in q.RelevanceInterests)
                {
                    var cosine = TensorPrimitives.CosineSimilarity(v, item);
                    if (cosine > bestCosine)
                    {
                        (best, bestCosine) = (v, cosine);
                    }
                }

                pairUsers.AddRange(best);
                pairItems.AddRange(item.ToArray());
            }

            var own = q.OwnInterests;
            for (var a = 0; a < own.Length; a++)
            {
                for (var b = a + 1; b < own.Length; b++)
                {
                    cosineSum += TensorPrimitives.CosineSimilarity(own[a], own[b]);
                    cosinePairs++;
                }
            }
        }

        return new RepresentationReport(
            pairUsers.Count == 0 ? double.NaN : RepresentationQuality.Alignment(pairUsers.ToArray(), pairItems.ToArray(), d),
            RepresentationQuality.Uniformity(users, d, samplePairs: UniformityPairs, seed: seed),
            RepresentationQuality.Uniformity(itemRel.Data, d, samplePairs: UniformityPairs, seed: seed),
            cosinePairs == 0 ? null : cosineSum / cosinePairs,
            embeddings.InterestEntropy([.. cases.Select(c => (ReadOnlyMemory<int>)c.History)], [.. cases.Select(c => c.User)]));
    }
}
