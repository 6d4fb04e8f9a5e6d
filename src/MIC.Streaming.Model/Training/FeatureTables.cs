using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Model.Training;

/// <summary>
/// The per-entity input fields the towers embed, as token arrays (0 = padding/unknown, so every
/// dense index is shifted by one): item category, item attribute bag (padded to
/// <see cref="AttributeSlots"/>), and categorical user fields. Built once from a dataset.
/// </summary>
public sealed class FeatureTables
{
    public const int MaxAttributeSlots = 8;

    public FeatureTables(InteractionDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ItemCount = dataset.ItemCount;
        CategoryCount = dataset.Categories.Count;
        AttributeCount = dataset.Attributes.Count;
        var maxAttrs = 0;
        for (var i = 0; i < ItemCount; i++)
        {
            maxAttrs = Math.Max(maxAttrs, dataset.AttributesOf(i).Length);
        }

        AttributeSlots = Math.Min(maxAttrs, MaxAttributeSlots);
        ItemCategoryTokens = new long[ItemCount + 1];
        ItemAttributeTokens = new long[(ItemCount + 1) * Math.Max(1, AttributeSlots)];
        for (var i = 0; i < ItemCount; i++)
        {
            ItemCategoryTokens[i + 1] = dataset.ItemCategory[i] + 1; // -1 (unknown) → 0
            var attrs = dataset.AttributesOf(i);
            for (var a = 0; a < Math.Min(attrs.Length, AttributeSlots); a++)
            {
                ItemAttributeTokens[((i + 1) * AttributeSlots) + a] = attrs[a] + 1;
            }
        }

        UserFieldCardinalities = dataset.UserFields.Select(f => f.Vocabulary.Count + 1).ToArray();
        UserFieldTokens = new long[dataset.UserCount * UserFieldCardinalities.Length];
        for (var f = 0; f < dataset.UserFields.Count; f++)
        {
            var values = dataset.UserFields[f].Values;
            for (var u = 0; u < dataset.UserCount; u++)
            {
                UserFieldTokens[(u * UserFieldCardinalities.Length) + f] = values[u] + 1;
            }
        }
    }

    public int ItemCount { get; }

    public int CategoryCount { get; }

    public int AttributeCount { get; }

    public int AttributeSlots { get; }

    /// <summary>[ItemCount + 1]: category token of item token t (row 0 = padding).</summary>
    public long[] ItemCategoryTokens { get; }

    /// <summary>[(ItemCount + 1) · AttributeSlots]: attribute tokens of item token t.</summary>
    public long[] ItemAttributeTokens { get; }

    /// <summary>Vocabulary size (+1 for unknown) of each user field.</summary>
    public int[] UserFieldCardinalities { get; }

    /// <summary>[UserCount · fields] user field tokens.</summary>
    public long[] UserFieldTokens { get; }

    public int UserFieldCount => UserFieldCardinalities.Length;
}
