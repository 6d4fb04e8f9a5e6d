using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Encoders;

/// <summary>
/// DSSM two-tower (Huang et al., CIKM 2013, as used for retrieval in MIC's experiments): each tower
/// is an MLP over its concatenated field embeddings. User fields: the mean-pooled history (one
/// field) + categorical user fields; item fields: id, category, attribute bag.
/// </summary>
public sealed class Dssm : TwoTowerEncoder, IPooledFieldsUserTower
{
    private readonly Sequential user_mlp;
    private readonly Sequential item_mlp;

    public Dssm(FeatureTables tables, EncoderOptions options)
        : base(nameof(Dssm), tables, options)
    {
        user_mlp = Mlp((1 + tables.UserFieldCount) * (long)options.Dimension, options.Hidden, options.Dimension, options.Dropout);
        item_mlp = Mlp(ItemFieldCount * (long)options.Dimension, options.Hidden, options.Dimension, options.Dropout);
        RegisterComponents();
    }

    Sequential IPooledFieldsUserTower.UserMlp => user_mlp;

    public override Tensor EncodeUser(UserBatch batch, FieldMaskEmbedding? perturb = null) =>
        user_mlp.forward(PooledUserFields(batch, perturb).flatten(1)).unsqueeze(1);     // [B, 1, D]

    public override Tensor EncodeItem(Tensor itemTokens, FieldMaskEmbedding? perturb = null, Tensor? fields = null) =>
        item_mlp.forward(ItemFields(itemTokens, perturb, fields).flatten(1));             // [N, D]
}
