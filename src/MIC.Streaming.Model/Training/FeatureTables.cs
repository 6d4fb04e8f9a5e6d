using MIC.Streaming.Core.Data;
using MIC.Streaming.Model.Encoders;

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
        : this(dataset, null, userIdField: false, itemUserSlots: 0)
    {
    }

    /// <summary>
    /// Tables with the two optional input fields of the paper's MIC (item 4 of the reproduction):
    /// <paramref name="userIdField"/> appends the user id as one more categorical user field — a
    /// token only for users with a history in <paramref name="train"/>, so held-out users embed it as
    /// padding (as if masked); <paramref name="itemUserSlots"/> &gt; 0 gives each item an
    /// interaction-record field: up to that many of its train users (a fixed random sample, seed 0).
    /// </summary>
    public FeatureTables(InteractionDataset dataset, SequenceTable? train, bool userIdField, int itemUserSlots)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegative(itemUserSlots);
        if ((userIdField || itemUserSlots > 0) && train is null)
        {
            throw new ArgumentException("The user-id and item-user fields are built from the train sequences.", nameof(train));
        }

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

        UserFieldCardinalities = [.. dataset.UserFields.Select(f => f.Vocabulary.Count + 1), .. userIdField ? [dataset.UserCount + 1] : Array.Empty<int>()];
        HasUserIdField = userIdField;
        var fieldCount = UserFieldCardinalities.Length;
        UserFieldTokens = new long[dataset.UserCount * fieldCount];
        for (var f = 0; f < dataset.UserFields.Count; f++)
        {
            var values = dataset.UserFields[f].Values;
            for (var u = 0; u < dataset.UserCount; u++)
            {
                UserFieldTokens[(u * fieldCount) + f] = values[u] + 1;
            }
        }

        if (userIdField)
        {
            for (var u = 0; u < Math.Min(dataset.UserCount, train!.UserCount); u++)
            {
                UserFieldTokens[(u * fieldCount) + fieldCount - 1] = train.Length(u) > 0 ? u + 1 : 0;
            }
        }

        UserTokenCount = dataset.UserCount + 1;
        ItemUserSlots = itemUserSlots;
        ItemUserTokens = itemUserSlots > 0 ? ItemUsers(train!, ItemCount, itemUserSlots) : [];
    }

    /// <summary>The tables an encoder with <paramref name="options"/> needs: the dataset's fields, plus the train-built ones it asks for.</summary>
    public static FeatureTables For(InteractionDataset dataset, SequenceTable train, EncoderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.NeedsTrainFields ? new FeatureTables(dataset, train, options.UserIdField, options.ItemUserSlots) : new FeatureTables(dataset);
    }

    /// <summary>Throws when <paramref name="options"/> ask for input fields these tables were not built with.</summary>
    public void EnsureMatches(EncoderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.UserIdField != HasUserIdField || options.ItemUserSlots != ItemUserSlots)
        {
            throw new ArgumentException(
                $"The encoder options ask for user-id field {options.UserIdField} and {options.ItemUserSlots} item-user slots; the feature tables have {HasUserIdField} and {ItemUserSlots}. Build them with FeatureTables.For.");
        }
    }

    /// <summary>[(ItemCount + 1) · slots]: up to <paramref name="slots"/> distinct train users (+1) of each item token, a reservoir sample.</summary>
    private static long[] ItemUsers(SequenceTable train, int itemCount, int slots)
    {
        var tokens = new long[(itemCount + 1) * slots];
        var seen = new int[itemCount];
        var last = new int[itemCount];
        Array.Fill(last, -1);
        var rng = new Random(0);
        for (var u = 0; u < train.UserCount; u++)
        {
            foreach (var item in train.Sequence(u))
            {
                if ((uint)item >= (uint)itemCount || last[item] == u)
                {
                    continue;
                }

                last[item] = u;
                var n = seen[item]++;
                var slot = n < slots ? n : rng.Next(n + 1);
                if (slot < slots)
                {
                    tokens[((item + 1) * slots) + slot] = u + 1;
                }
            }
        }

        return tokens;
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

    /// <summary>The last user field is the user id (train users only; see the constructor).</summary>
    public bool HasUserIdField { get; }

    /// <summary>Users + 1 (token 0 = padding): the size of a table embedding user tokens.</summary>
    public int UserTokenCount { get; }

    /// <summary>Slots of the items' interaction-record field (0 = no such field).</summary>
    public int ItemUserSlots { get; }

    /// <summary>[(ItemCount + 1) · <see cref="ItemUserSlots"/>]: user tokens of each item token (0 = empty slot).</summary>
    public long[] ItemUserTokens { get; }
}
