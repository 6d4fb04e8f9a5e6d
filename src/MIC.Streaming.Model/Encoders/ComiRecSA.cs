using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Encoders;

/// <summary>
/// ComiRec-SA (Cen et al., KDD 2020, §3.2 "self-attentive method"): K interests from multi-head
/// self-attention over the history: A = softmax_L(W2·tanh(W1·(H + P))) ∈ [B, K, L], interests = A·H.
/// Items are the sum of their field embeddings. User fields are not used (as in ComiRec).
/// </summary>
public sealed class ComiRecSA : TwoTowerEncoder, ISelfAttentiveUserTower
{
    private readonly Parameter positions;   // [L, D]
    private readonly Linear w1;             // D → 4D
    private readonly Linear w2;             // 4D → K

    public ComiRecSA(FeatureTables tables, EncoderOptions options)
        : base(nameof(ComiRecSA), tables, options, useUserFields: false)
    {
        ArgumentNullException.ThrowIfNull(options);
        positions = nn.Parameter(torch.empty(options.MaxLen, options.Dimension));
        using (torch.no_grad())
        {
            nn.init.xavier_uniform_(positions);
        }

        w1 = ModelInit.XavierLinear(options.Dimension, 4L * options.Dimension);
        w2 = ModelInit.XavierLinear(4L * options.Dimension, options.Interests);
        RegisterComponents();
    }

    public override int Interests => Options.Interests;

    Tensor ISelfAttentiveUserTower.Positions => positions;

    Linear ISelfAttentiveUserTower.W1 => w1;

    Linear ISelfAttentiveUserTower.W2 => w2;

    public override Tensor EncodeUser(UserBatch batch, FieldMaskEmbedding? perturb = null)
    {
        var (h, mask) = SequenceInput(batch, perturb);                                  // [B, L, D], [B, L]
        return torch.bmm(Attention(h, mask), h);                                       // [B, K, D]
    }

    /// <inheritdoc/>
    public override Tensor? InterestWeights(UserBatch batch)
    {
        var (h, mask) = SequenceInput(batch, null);
        return Attention(h, mask);
    }

    /// <summary>softmax_L(W2·tanh(W1·(H + P))) on real positions: [B, L, D], [B, L] → [B, K, L].</summary>
    private Tensor Attention(Tensor h, Tensor mask)
    {
        var len = h.shape[1];
        var withPos = h + positions.narrow(0, positions.shape[0] - len, len);          // right-aligned positions
        var scores = w2.forward(torch.tanh(w1.forward(withPos))).transpose(1, 2);      // [B, K, L]
        scores = scores.masked_fill(mask.unsqueeze(1).eq(Scalars.Zero), Scalars.Of(-1e9));
        return nn.functional.softmax(scores, dim: -1);                                 // [B, K, L]
    }

    public override Tensor EncodeItem(Tensor itemTokens, FieldMaskEmbedding? perturb = null, Tensor? fields = null) =>
        ItemFields(itemTokens, perturb, fields).sum(1);                                  // [N, D]
}
