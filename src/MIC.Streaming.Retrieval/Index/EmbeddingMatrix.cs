using System.Numerics.Tensors;

namespace MIC.Streaming.Retrieval.Index;

/// <summary>
/// A dense row-major [rows, dim] float matrix, the currency between the model and the indexes
/// (row r = the vector of dense id r). Immutable after construction by convention.
/// </summary>
public sealed class EmbeddingMatrix
{
    public EmbeddingMatrix(float[] data, int dimension)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (data.Length % dimension != 0)
        {
            throw new ArgumentException($"Data length {data.Length} is not a multiple of dimension {dimension}.", nameof(data));
        }

        Data = data;
        Dimension = dimension;
    }

    public float[] Data { get; }

    public int Dimension { get; }

    public int Rows => Data.Length / Dimension;

    public ReadOnlySpan<float> Row(int r) => Data.AsSpan(r * Dimension, Dimension);

    /// <summary>A copy with every non-zero row scaled to unit length (inner product = cosine).</summary>
    public EmbeddingMatrix Normalised()
    {
        var copy = (float[])Data.Clone();
        for (var r = 0; r < Rows; r++)
        {
            var row = copy.AsSpan(r * Dimension, Dimension);
            var norm = TensorPrimitives.Norm(row);
            if (norm > 0)
            {
                TensorPrimitives.Divide(row, norm, row);
            }
        }

        return new EmbeddingMatrix(copy, Dimension);
    }

    /// <summary>Cosine of two vectors (0 when either is zero).</summary>
    public static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var na = TensorPrimitives.Norm(a);
        var nb = TensorPrimitives.Norm(b);
        return na > 0 && nb > 0 ? TensorPrimitives.Dot(a, b) / (na * nb) : 0f;
    }
}
