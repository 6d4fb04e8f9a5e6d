using TorchSharp;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Mic;

/// <summary>
/// MIC Perturbation Mining, part 1 (paper §3.2, "field mask embedding layer" + "dropout in the
/// embedded feature space"): a perturbed view of an instance masks <see cref="MaskedFields"/> random
/// fields (their embeddings are zeroed) and then applies dropout (rate <see cref="DropoutRate"/>,
/// 0.2 in the paper) to what remains. At least one field always survives. For the user side the
/// history is a sequence, not a bag of fields, so its items are also dropped with
/// <see cref="HistoryDropRate"/> (our reading of "random masking" for behaviour sequences; at least
/// one history item survives). Used only to build contrastive views; the main pass never calls it.
/// </summary>
public sealed class FieldMaskEmbedding(int maskedFields, double dropoutRate, double historyDropRate)
{
    public int MaskedFields { get; } = maskedFields >= 0 ? maskedFields : throw new ArgumentOutOfRangeException(nameof(maskedFields));

    public double DropoutRate { get; } = dropoutRate is >= 0 and < 1 ? dropoutRate : throw new ArgumentOutOfRangeException(nameof(dropoutRate));

    public double HistoryDropRate { get; } = historyDropRate is >= 0 and < 1 ? historyDropRate : throw new ArgumentOutOfRangeException(nameof(historyDropRate));

    /// <summary>fields [N, F, D] → masked fields [N, F, D] with dropout applied.</summary>
    public Tensor Perturb(Tensor fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var n = fields.shape[0];
        var f = fields.shape[1];
        var keep = FieldKeepMask(n, f, MaskedFields, fields.device);   // [N, F]
        var masked = fields * keep.unsqueeze(-1);
        return nn.functional.dropout(masked, DropoutRate, training: true);
    }

    /// <summary>historyMask [B, L] (1 = real item) → a mask with each real item dropped with p, keeping ≥ 1 per row.</summary>
    public Tensor DropHistory(Tensor historyMask)
    {
        ArgumentNullException.ThrowIfNull(historyMask);
        if (HistoryDropRate <= 0)
        {
            return historyMask;
        }

        var keep = torch.rand_like(historyMask).ge(Scalars.Of(HistoryDropRate)).to(historyMask.dtype) * historyMask;
        // Rows that lost everything keep their most recent item (histories are right-aligned).
        var empty = keep.sum(1, keepdim: true).eq(Scalars.Zero).to(historyMask.dtype);   // [B, 1]
        var last = torch.zeros_like(historyMask);
        last[TensorIndex.Colon, -1] = historyMask[TensorIndex.Colon, -1];
        return keep + (empty * last);
    }

    /// <summary>[N, F] of 1/0 with exactly min(k, F − 1) zeros per row, at random positions.</summary>
    public static Tensor FieldKeepMask(long n, long f, int k, Device device)
    {
        var masked = Math.Min(k, (int)f - 1);
        var keep = torch.ones(n, f, dtype: ScalarType.Float32, device: device);
        if (masked <= 0)
        {
            return keep;
        }

        var positions = torch.rand(n, f, dtype: ScalarType.Float32, device: device).topk(masked, dim: 1).indexes; // [N, k]
        return keep.scatter(1, positions, torch.zeros(n, masked, dtype: ScalarType.Float32, device: device));
    }
}
