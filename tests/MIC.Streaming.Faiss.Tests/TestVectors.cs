using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Faiss.Tests;

/// <summary>Seeded clustered unit vectors, shaped like trained embeddings.</summary>
internal static class TestVectors
{
    public static EmbeddingMatrix Clustered(int rows, int dim, int clusters, int seed)
    {
        var rng = new Random(seed);
        var centres = new float[clusters * dim];
        for (var i = 0; i < centres.Length; i++)
        {
            centres[i] = (float)Gaussian(rng);
        }

        var data = new float[rows * dim];
        for (var r = 0; r < rows; r++)
        {
            var c = rng.Next(clusters);
            for (var j = 0; j < dim; j++)
            {
                data[(r * dim) + j] = centres[(c * dim) + j] + (0.5f * (float)Gaussian(rng));
            }
        }

        return new EmbeddingMatrix(data, dim).Normalised();
    }

    public static long[] Ids(int rows, long offset = 0) => Enumerable.Range(0, rows).Select(i => offset + (i * 3)).ToArray();

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
