using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Encoders;

/// <summary>
/// ComiRec-DR (Cen et al., KDD 2020, §3.2 "dynamic routing"): history items are mapped per interest
/// (Ŝ_k = W_k·h, [B, K, L, D]), routing logits start at zero (no gradient), and 3 routing
/// iterations give K capsules: c = softmax_K(b) on real positions, z_k = Σ_l c_kl Ŝ_kl,
/// v_k = squash(z_k), b += Ŝ·v (routing uses a detached Ŝ except in the last iteration).
/// The zero start is ComiRec's public code for per-interest mappings (its bilinear types 1 and 2, as
/// here): the capsules differ because the W_k differ, and a user's vectors are deterministic.
/// <see cref="EncoderOptions.RandomRoutingStart"/> restores MIND's N(0, 1) start, drawn on every call
/// (evaluation and serving included; <see cref="ManagedUserTower"/> draws the same way), with which
/// the ComiRec-DR results before 2026-12-03 were trained and evaluated.
/// </summary>
public sealed class ComiRecDR : TwoTowerEncoder, IRoutingUserTower
{
    private const int RoutingIterations = 3;
    private readonly Linear mapping;        // D → K·D

    public ComiRecDR(FeatureTables tables, EncoderOptions options)
        : base(nameof(ComiRecDR), tables, options, useUserFields: false)
    {
        ArgumentNullException.ThrowIfNull(options);
        mapping = nn.Linear(options.Dimension, (long)options.Interests * options.Dimension, hasBias: false);
        using (torch.no_grad())
        {
            nn.init.xavier_uniform_(mapping.weight!);
        }

        RegisterComponents();
    }

    public override int Interests => Options.Interests;

    Linear IRoutingUserTower.Mapping => mapping;

    int IRoutingUserTower.RoutingIterations => RoutingIterations;

    bool IRoutingUserTower.RandomStart => Options.RandomRoutingStart;

    public override Tensor EncodeUser(UserBatch batch, FieldMaskEmbedding? perturb = null)
    {
        var (h, mask) = SequenceInput(batch, perturb);                                  // [B, L, D], [B, L]
        return Route(h, mask).Capsules;
    }

    /// <inheritdoc/>
    public override bool InterestWeightsSumOverInterests => true;

    /// <inheritdoc/>
    public override Tensor? InterestWeights(UserBatch batch)
    {
        var (h, mask) = SequenceInput(batch, null);
        return Route(h, mask).Coupling;
    }

    /// <summary>Dynamic routing: the K capsules [B, K, D] and the last iteration's coupling coefficients [B, K, L].</summary>
    private (Tensor Capsules, Tensor Coupling) Route(Tensor h, Tensor mask)
    {
        var (b, l, d, k) = (h.shape[0], h.shape[1], (long)Dimension, (long)Interests);
        var hat = mapping.forward(h).view(b, l, k, d).permute(0, 2, 1, 3).contiguous(); // [B, K, L, D]: contiguous once, not copied by each routing matmul
        var hatDetached = hat.detach();
        var logits = Options.RandomRoutingStart
            ? torch.randn(b, k, l, device: h.device)                                   // MIND's random start
            : torch.zeros(b, k, l, device: h.device);                                  // ComiRec's zero start
        var realPositions = mask.unsqueeze(1);                                         // [B, 1, L]
        Tensor capsules = null!;
        Tensor c = null!;
        for (var it = 0; it < RoutingIterations; it++)
        {
            c = nn.functional.softmax(logits, dim: 1) * realPositions;                // [B, K, L]
            var source = it < RoutingIterations - 1 ? hatDetached : hat;
            var z = torch.matmul(c.unsqueeze(2), source).squeeze(2);                   // [B, K, D]
            capsules = Squash(z);
            if (it < RoutingIterations - 1)
            {
                logits = logits + torch.matmul(hatDetached, capsules.unsqueeze(-1)).squeeze(-1); // [B, K, L]
            }
        }

        return (capsules, c);                                                          // [B, K, D], [B, K, L]
    }

    public override Tensor EncodeItem(Tensor itemTokens, FieldMaskEmbedding? perturb = null, Tensor? fields = null) =>
        ItemFields(itemTokens, perturb, fields).sum(1);                                  // [N, D]

    private static Tensor Squash(Tensor z)
    {
        var norm2 = (z * z).sum(-1, keepdim: true);
        return z * (norm2 / (Scalars.One + norm2) / torch.sqrt(norm2 + Scalars.Of(1e-9)));
    }
}
