namespace MIC.Streaming.Core.Data;

/// <summary>
/// An immutable, compact in-memory dataset: dense ids with their reverse maps, chronological
/// per-user sequences in CSR form, one behaviour byte per interaction, item category and
/// attribute bag (CSR), and optional categorical user fields. Built by <see cref="DatasetBuilder"/>.
/// </summary>
public sealed class InteractionDataset
{
    internal InteractionDataset(
        string name,
        IdVocabulary users,
        IdVocabulary items,
        IdVocabulary categories,
        IdVocabulary attributes,
        IdVocabulary behaviours,
        SequenceTable sequences,
        byte[] behaviourCodes,
        int[] itemCategory,
        int[] itemAttributeOffsets,
        int[] itemAttributes,
        IReadOnlyList<CategoricalField> userFields)
    {
        Name = name;
        Users = users;
        Items = items;
        Categories = categories;
        Attributes = attributes;
        Behaviours = behaviours;
        Sequences = sequences;
        BehaviourCodes = behaviourCodes;
        ItemCategory = itemCategory;
        ItemAttributeOffsets = itemAttributeOffsets;
        ItemAttributes = itemAttributes;
        UserFields = userFields;
    }

    public string Name { get; }

    public IdVocabulary Users { get; }

    public IdVocabulary Items { get; }

    public IdVocabulary Categories { get; }

    public IdVocabulary Attributes { get; }

    public IdVocabulary Behaviours { get; }

    public SequenceTable Sequences { get; }

    /// <summary>Behaviour index per interaction, aligned with <see cref="SequenceTable.Items"/>.</summary>
    public byte[] BehaviourCodes { get; }

    /// <summary>Category index per item; -1 where unknown.</summary>
    public int[] ItemCategory { get; }

    public int[] ItemAttributeOffsets { get; }

    public int[] ItemAttributes { get; }

    public IReadOnlyList<CategoricalField> UserFields { get; }

    public int UserCount => Users.Count;

    public int ItemCount => Items.Count;

    public int InteractionCount => Sequences.InteractionCount;

    public ReadOnlySpan<int> AttributesOf(int item) =>
        ItemAttributes.AsSpan(ItemAttributeOffsets[item], ItemAttributeOffsets[item + 1] - ItemAttributeOffsets[item]);

    public FieldSchema Schema => FieldSchema.From(this);

    /// <summary>Bytes held by the per-interaction and per-entity arrays (excluding raw id strings).</summary>
    public long ArrayBytes() =>
        (4L * Sequences.Offsets.Length) + (4L * Sequences.Items.Length) + (8L * Sequences.Timestamps.Length)
        + BehaviourCodes.Length + (4L * ItemCategory.Length) + (4L * ItemAttributeOffsets.Length)
        + (4L * ItemAttributes.Length) + UserFields.Sum(f => 4L * f.Values.Length);

    /// <summary>Array bytes plus an estimate of the id maps.</summary>
    public long EstimatedBytes() =>
        ArrayBytes() + Users.EstimatedBytes() + Items.EstimatedBytes() + Categories.EstimatedBytes()
        + Attributes.EstimatedBytes();

    /// <summary>
    /// A new dataset with only the kept users and items; ids are re-densified, sequences keep their
    /// order, users left with no interaction are dropped.
    /// </summary>
    public InteractionDataset Filter(ReadOnlySpan<bool> keepUser, ReadOnlySpan<bool> keepItem)
    {
        var seqs = Sequences;
        var userHasData = new bool[UserCount];
        for (var u = 0; u < UserCount; u++)
        {
            if (!keepUser[u])
            {
                continue;
            }

            foreach (var item in seqs.Sequence(u))
            {
                if (keepItem[item])
                {
                    userHasData[u] = true;
                    break;
                }
            }
        }

        var itemUsed = new bool[ItemCount];
        for (var u = 0; u < UserCount; u++)
        {
            if (!userHasData[u])
            {
                continue;
            }

            foreach (var item in seqs.Sequence(u))
            {
                if (keepItem[item])
                {
                    itemUsed[item] = true;
                }
            }
        }

        var users = Users.Subset(userHasData, out var userMap);
        var items = Items.Subset(itemUsed, out var itemMap);

        var offsets = new int[users.Count + 1];
        var newItems = new List<int>(InteractionCount);
        var newTimes = new List<long>(InteractionCount);
        var newBehaviours = new List<byte>(InteractionCount);
        for (var u = 0; u < UserCount; u++)
        {
            if (userMap[u] < 0)
            {
                continue;
            }

            for (var p = seqs.Offsets[u]; p < seqs.Offsets[u + 1]; p++)
            {
                var item = seqs.Items[p];
                if (!keepItem[item])
                {
                    continue;
                }

                newItems.Add(itemMap[item]);
                newTimes.Add(seqs.Timestamps[p]);
                newBehaviours.Add(BehaviourCodes[p]);
            }

            offsets[userMap[u] + 1] = newItems.Count;
        }

        var category = new int[items.Count];
        var attrOffsets = new int[items.Count + 1];
        var attrs = new List<int>();
        for (var i = 0; i < ItemCount; i++)
        {
            var ni = itemMap[i];
            if (ni < 0)
            {
                continue;
            }

            category[ni] = ItemCategory[i];
            attrs.AddRange(AttributesOf(i));
            attrOffsets[ni + 1] = attrs.Count;
        }

        var fields = UserFields
            .Select(f =>
            {
                var values = new int[users.Count];
                for (var u = 0; u < UserCount; u++)
                {
                    if (userMap[u] >= 0)
                    {
                        values[userMap[u]] = f.Values[u];
                    }
                }

                return new CategoricalField(f.Name, f.Vocabulary, values);
            })
            .ToList();

        return new InteractionDataset(
            Name,
            users,
            items,
            Categories,
            Attributes,
            Behaviours,
            new SequenceTable(offsets, [.. newItems], [.. newTimes]),
            [.. newBehaviours],
            category,
            attrOffsets,
            [.. attrs],
            fields);
    }
}
