using MIC.Streaming.Model.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Encoders;

/// <summary>
/// Embeds item tokens (dense item id + 1; 0 = padding) into their fields: id, category and the
/// mean of the attribute bag, stacked as [..., F, D] so the MIC field mask can drop whole fields.
/// Shared by the item tower and by the history encoders (a history item is embedded as an item).
/// </summary>
public sealed class ItemFieldEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Embedding id;
    private readonly Embedding? category;
    private readonly Embedding? attributes;
    private readonly Tensor categoryOf;   // [I+1] (buffer)
    private readonly Tensor attributesOf; // [I+1, A] (buffer)
    private readonly int _slots;

    public ItemFieldEmbedding(FeatureTables tables, int dimension)
        : base(nameof(ItemFieldEmbedding))
    {
        ArgumentNullException.ThrowIfNull(tables);
        id = nn.Embedding(tables.ItemCount + 1, dimension, padding_idx: 0);
        if (tables.CategoryCount > 0)
        {
            category = nn.Embedding(tables.CategoryCount + 1, dimension, padding_idx: 0);
        }

        _slots = tables.AttributeSlots;
        if (tables.AttributeCount > 0 && _slots > 0)
        {
            attributes = nn.Embedding(tables.AttributeCount + 1, dimension, padding_idx: 0);
        }

        categoryOf = torch.tensor(tables.ItemCategoryTokens, dtype: ScalarType.Int64);
        attributesOf = torch.tensor(tables.ItemAttributeTokens, dtype: ScalarType.Int64).reshape(tables.ItemCount + 1, Math.Max(1, _slots));
        FieldCount = 1 + (category is null ? 0 : 1) + (attributes is null ? 0 : 1);
        RegisterComponents(); // also registers the two lookup tensors as buffers
        foreach (var e in new[] { id, category, attributes })
        {
            if (e is not null)
            {
                ModelInit.XavierEmbedding(e);
            }
        }
    }

    /// <summary>Number of item fields F (id, category if any, attributes if any).</summary>
    public int FieldCount { get; }

    /// <summary>tokens [...] → fields [..., F, D].</summary>
    public override Tensor forward(Tensor tokens)
    {
        var shape = tokens.shape;
        var flat = tokens.reshape(-1);                                   // [N]
        var fields = new List<Tensor> { id.forward(flat) };             // [N, D]
        if (category is not null)
        {
            fields.Add(category.forward(categoryOf.index_select(0, flat)));
        }

        if (attributes is not null)
        {
            var attrs = attributesOf.index_select(0, flat);             // [N, A]
            var present = attrs.gt(0).unsqueeze(-1).to(ScalarType.Float32); // [N, A, 1]
            var summed = (attributes.forward(attrs) * present).sum(1);  // [N, D]
            fields.Add(summed / present.sum(1).clamp_min(1));
        }

        var stacked = torch.stack(fields, dim: 1);                      // [N, F, D]
        return stacked.reshape([.. shape, FieldCount, stacked.shape[^1]]);
    }

    /// <summary>
    /// Weighted pooling of history items without materialising [B, L, F, D]: Σ_l w[b,l] · (id + category
    /// + attribute-mean embedding of item l), via embedding_bag per field. tokens, weights: [B, L] → [B, D].
    /// Equals <c>forward(tokens).sum(-2)</c> pooled with the same weights, at a fraction of the memory traffic.
    /// </summary>
    public Tensor Pool(Tensor tokens, Tensor weights)
    {
        var pooled = WeightedBag(tokens, weights, id.weight!);
        if (category is not null)
        {
            var cats = categoryOf.index_select(0, tokens.reshape(-1)).reshape(tokens.shape);
            pooled = pooled + WeightedBag(cats, weights, category.weight!);
        }

        if (attributes is not null)
        {
            var b = tokens.shape[0];
            var attrs = attributesOf.index_select(0, tokens.reshape(-1));                   // [B·L, A]
            var present = attrs.gt(0).to(ScalarType.Float32);
            var perAttr = weights.reshape(-1, 1) * present / present.sum(1, keepdim: true).clamp_min(1); // [B·L, A]
            pooled = pooled + WeightedBag(attrs.reshape(b, -1), perAttr.reshape(b, -1), attributes.weight!);
        }

        return pooled;
    }

    /// <summary>
    /// Σ_l w[b,l] · table[tokens[b,l]] as a sparse [B, V] × dense [V, D] product (an embedding bag
    /// with per-sample weights; TorchSharp has no functional embedding_bag over a shared table).
    /// The gradient flows into the table only for the rows that occur.
    /// </summary>
    private static Tensor WeightedBag(Tensor tokens, Tensor weights, Tensor table)
    {
        var b = tokens.shape[0];
        var l = tokens.shape[1];
        var rows = torch.arange(b, device: tokens.device).repeat_interleave(l);
        var indices = torch.stack([rows, tokens.reshape(-1)], 0);
        var sparse = torch.sparse_coo_tensor(indices, weights.reshape(-1), [b, table.shape[0]]);
        return torch.mm(sparse, table);
    }

    /// <summary>The trainable id table (for the sparse-row optimizer and growth).</summary>
    public Embedding IdTable => id;
}
