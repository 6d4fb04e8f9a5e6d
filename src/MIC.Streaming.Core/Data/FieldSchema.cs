namespace MIC.Streaming.Core.Data;

/// <summary>Whether a field holds one value or a bag of values per entity.</summary>
public enum FieldArity
{
    SingleValued,
    MultiValued,
}

/// <summary>One input field of a tower: its name, arity and vocabulary size.</summary>
public sealed record FieldSpec(string Name, FieldArity Arity, int Cardinality);

/// <summary>
/// The fields an encoder can embed on each side. User side: the user id and any categorical user
/// fields (history is not a field: encoders consume it as a sequence). Item side: item id,
/// category and the attribute bag. The MIC field mask picks among these fields.
/// </summary>
public sealed record FieldSchema(IReadOnlyList<FieldSpec> UserFields, IReadOnlyList<FieldSpec> ItemFields)
{
    public const string UserIdField = "user_id";
    public const string ItemIdField = "item_id";
    public const string CategoryField = "category";
    public const string AttributesField = "attributes";

    public static FieldSchema From(InteractionDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var user = new List<FieldSpec> { new(UserIdField, FieldArity.SingleValued, dataset.Users.Count) };
        user.AddRange(dataset.UserFields.Select(f => new FieldSpec(f.Name, FieldArity.SingleValued, f.Vocabulary.Count)));

        var item = new List<FieldSpec> { new(ItemIdField, FieldArity.SingleValued, dataset.Items.Count) };
        if (dataset.Categories.Count > 0)
        {
            item.Add(new FieldSpec(CategoryField, FieldArity.SingleValued, dataset.Categories.Count));
        }

        if (dataset.Attributes.Count > 0)
        {
            item.Add(new FieldSpec(AttributesField, FieldArity.MultiValued, dataset.Attributes.Count));
        }

        return new FieldSchema(user, item);
    }
}
