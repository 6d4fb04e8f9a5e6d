using MIC.Streaming.Model.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Encoders;

/// <summary>
/// The item's interaction-record field (paper §3.2 lists it among the item fields the mask can drop):
/// the mean embedding of up to <see cref="FeatureTables.ItemUserSlots"/> of the item's train users,
/// from a user-token table of its own. An item without recorded users embeds as a zero row. Only the
/// item tower reads it: history items stay embedded by their own fields, so the user tower (and its
/// libtorch-free copy in <see cref="ManagedUserTower"/>) does not change.
/// </summary>
public sealed class ItemRecordEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Embedding users;
    private readonly Tensor usersOf; // [I+1, R] (buffer)

    public ItemRecordEmbedding(FeatureTables tables, int dimension)
        : base(nameof(ItemRecordEmbedding))
    {
        ArgumentNullException.ThrowIfNull(tables);
        if (tables.ItemUserSlots <= 0)
        {
            throw new ArgumentException("The tables have no item-user slots.", nameof(tables));
        }

        users = nn.Embedding(tables.UserTokenCount, dimension, padding_idx: 0);
        usersOf = torch.tensor(tables.ItemUserTokens, dtype: ScalarType.Int64).reshape(tables.ItemCount + 1, tables.ItemUserSlots);
        RegisterComponents();
        ModelInit.XavierEmbedding(users);
    }

    /// <summary>Item tokens [N] → the record field [N, D].</summary>
    public override Tensor forward(Tensor tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var recorded = usersOf.index_select(0, tokens.reshape(-1));                      // [N, R]
        var present = recorded.gt(Scalars.Zero).unsqueeze(-1).to(ScalarType.Float32);               // [N, R, 1]
        return (users.forward(recorded) * present).sum(1) / present.sum(1).clamp_min(Scalars.One);
    }
}
