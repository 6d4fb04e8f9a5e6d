using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Encoders;

/// <summary>
/// YouTubeDNN candidate generation (Covington et al., RecSys 2016): the user vector is an MLP over
/// the mean-pooled watch history concatenated with user features; items are the softmax's output
/// embeddings — here the sum of the item's field embeddings (no item MLP). Trained with in-batch
/// sampled softmax.
/// </summary>
public sealed class YoutubeDnn : TwoTowerEncoder, IPooledFieldsUserTower
{
    private readonly Sequential user_mlp;

    public YoutubeDnn(FeatureTables tables, EncoderOptions options)
        : base(nameof(YoutubeDnn), tables, options)
    {
        user_mlp = Mlp((1 + tables.UserFieldCount) * (long)options.Dimension, options.Hidden, options.Dimension, options.Dropout);
        RegisterComponents();
    }

    Sequential IPooledFieldsUserTower.UserMlp => user_mlp;

    public override Tensor EncodeUser(UserBatch batch, FieldMaskEmbedding? perturb = null) =>
        user_mlp.forward(PooledUserFields(batch, perturb).flatten(1)).unsqueeze(1);     // [B, 1, D]

    public override Tensor EncodeItem(Tensor itemTokens, FieldMaskEmbedding? perturb = null, Tensor? fields = null) =>
        ItemFields(itemTokens, perturb, fields).sum(1);                                  // [N, D]
}
