namespace MIC.Streaming.Core.Data;

/// <summary>
/// Accumulates interactions as they stream from an importer (columnar growable arrays, 17 bytes
/// per interaction while building) and turns them into an <see cref="InteractionDataset"/>:
/// a counting sort by user, then a stable sort by timestamp inside each user (ties keep file order).
/// </summary>
public sealed class DatasetBuilder
{
    private readonly IdVocabulary _users = new();
    private readonly IdVocabulary _items = new();
    private readonly IdVocabulary _categories = new();
    private readonly IdVocabulary _attributes = new();
    private readonly IdVocabulary _behaviours = new();
    private readonly Dictionary<int, int> _itemCategory = [];
    private readonly Dictionary<int, int[]> _itemAttributes = [];
    private readonly Dictionary<string, (IdVocabulary Vocab, Dictionary<int, int> Values)> _userFields = new(StringComparer.Ordinal);

    private int[] _user = new int[1024];
    private int[] _item = new int[1024];
    private long[] _time = new long[1024];
    private byte[] _behaviour = new byte[1024];
    private int _count;

    public DatasetBuilder(string name = "dataset") => Name = name;

    public string Name { get; }

    public int Count => _count;

    public IdVocabulary Items => _items;

    public IdVocabulary Users => _users;

    /// <summary>
    /// Starts this (empty) builder with every id of <paramref name="dataset"/> in its dense order
    /// (users, items, categories, attributes, behaviours, user-field values), the items' categories
    /// and attributes and the users' field values, but none of its interactions. A dataset built
    /// from it keeps every existing id at its row and appends new ones: what a model whose tables
    /// grow needs from one version to the next. With <paramref name="keepUser"/>, only the users it
    /// keeps (items are never dropped: their rows are embedding rows).
    /// </summary>
    public void SeedFrom(InteractionDataset dataset, Func<int, bool>? keepUser = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (_count > 0 || _users.Count > 0 || _items.Count > 0)
        {
            throw new InvalidOperationException("SeedFrom needs an empty builder.");
        }

        // Kept users get consecutive rows in their old order; the others (and their field values) are left out.
        var newRow = new int[dataset.UserCount];
        for (var u = 0; u < dataset.UserCount; u++)
        {
            newRow[u] = keepUser is null || keepUser(u) ? _users.GetOrAdd(dataset.Users.GetRaw(u)) : -1;
        }

        foreach (var raw in dataset.Items.RawIds)
        {
            _items.GetOrAdd(raw);
        }

        foreach (var raw in dataset.Categories.RawIds)
        {
            _categories.GetOrAdd(raw);
        }

        foreach (var raw in dataset.Attributes.RawIds)
        {
            _attributes.GetOrAdd(raw);
        }

        foreach (var raw in dataset.Behaviours.RawIds)
        {
            _behaviours.GetOrAdd(raw);
        }

        for (var i = 0; i < dataset.ItemCount; i++)
        {
            if (dataset.ItemCategory[i] >= 0)
            {
                _itemCategory[i] = dataset.ItemCategory[i];
            }

            var attrs = dataset.AttributesOf(i);
            if (attrs.Length > 0)
            {
                _itemAttributes[i] = attrs.ToArray();
            }
        }

        foreach (var field in dataset.UserFields)
        {
            var vocab = new IdVocabulary();
            foreach (var raw in field.Vocabulary.RawIds)
            {
                vocab.GetOrAdd(raw);
            }

            var values = new Dictionary<int, int>();
            for (var u = 0; u < field.Values.Length; u++)
            {
                if (field.Values[u] >= 0 && u < newRow.Length && newRow[u] >= 0)
                {
                    values[newRow[u]] = field.Values[u];
                }
            }

            _userFields[field.Name] = (vocab, values);
        }
    }

    public void Add(in RawInteraction interaction)
    {
        var user = _users.GetOrAdd(interaction.UserId);
        var item = _items.GetOrAdd(interaction.ItemId);
        var behaviour = _behaviours.GetOrAdd(interaction.Behaviour);
        if (behaviour > byte.MaxValue)
        {
            throw new InvalidOperationException("More than 256 distinct behaviour types.");
        }

        if (interaction.Category is { Length: > 0 } category)
        {
            _itemCategory[item] = _categories.GetOrAdd(category);
        }

        Add(user, item, interaction.Timestamp, (byte)behaviour);
    }

    /// <summary>Adds by raw id spans (no string allocation for ids already seen).</summary>
    public void Add(ReadOnlySpan<char> userId, ReadOnlySpan<char> itemId, long timestamp, ReadOnlySpan<char> behaviour = default, ReadOnlySpan<char> category = default)
    {
        var user = _users.GetOrAdd(userId);
        var item = _items.GetOrAdd(itemId);
        var b = _behaviours.GetOrAdd(behaviour.IsEmpty ? RawInteraction.DefaultBehaviour.AsSpan() : behaviour);
        if (b > byte.MaxValue)
        {
            throw new InvalidOperationException("More than 256 distinct behaviour types.");
        }

        if (!category.IsEmpty)
        {
            _itemCategory[item] = _categories.GetOrAdd(category);
        }

        Add(user, item, timestamp, (byte)b);
    }

    private void Add(int user, int item, long time, byte behaviour)
    {
        if (_count == _user.Length)
        {
            var size = _count * 2;
            Array.Resize(ref _user, size);
            Array.Resize(ref _item, size);
            Array.Resize(ref _time, size);
            Array.Resize(ref _behaviour, size);
        }

        _user[_count] = user;
        _item[_count] = item;
        _time[_count] = time;
        _behaviour[_count] = behaviour;
        _count++;
    }

    /// <summary>Sets an item's category (known items only; returns false for an unknown item).</summary>
    public bool SetItemCategory(ReadOnlySpan<char> itemId, ReadOnlySpan<char> category)
    {
        if (!_items.TryGetIndex(itemId, out var item))
        {
            return false;
        }

        _itemCategory[item] = _categories.GetOrAdd(category);
        return true;
    }

    /// <summary>Sets an item's attribute bag (known items only; returns false for an unknown item).</summary>
    public bool SetItemAttributes(ReadOnlySpan<char> itemId, IEnumerable<string> attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        if (!_items.TryGetIndex(itemId, out var item))
        {
            return false;
        }

        _itemAttributes[item] = attributes.Select(_attributes.GetOrAdd).Distinct().ToArray();
        return true;
    }

    /// <summary>Sets a categorical user field (known users only).</summary>
    public bool SetUserField(ReadOnlySpan<char> userId, string field, string value)
    {
        if (!_users.TryGetIndex(userId, out var user))
        {
            return false;
        }

        if (!_userFields.TryGetValue(field, out var f))
        {
            f = (new IdVocabulary(), new Dictionary<int, int>());
            _userFields[field] = f;
        }

        f.Values[user] = f.Vocab.GetOrAdd(value);
        return true;
    }

    public InteractionDataset Build()
    {
        var userCount = _users.Count;
        var offsets = new int[userCount + 1];
        for (var i = 0; i < _count; i++)
        {
            offsets[_user[i] + 1]++;
        }

        for (var u = 0; u < userCount; u++)
        {
            offsets[u + 1] += offsets[u];
        }

        // Counting sort by user keeps arrival order within a user.
        var items = new int[_count];
        var times = new long[_count];
        var behaviours = new byte[_count];
        var cursor = offsets[..^1].ToArray();
        for (var i = 0; i < _count; i++)
        {
            var p = cursor[_user[i]]++;
            items[p] = _item[i];
            times[p] = _time[i];
            behaviours[p] = _behaviour[i];
        }

        for (var u = 0; u < userCount; u++)
        {
            StableSortByTime(items, times, behaviours, offsets[u], offsets[u + 1]);
        }

        var itemCount = _items.Count;
        var category = new int[itemCount];
        Array.Fill(category, -1);
        foreach (var (item, cat) in _itemCategory)
        {
            category[item] = cat;
        }

        var attrOffsets = new int[itemCount + 1];
        for (var i = 0; i < itemCount; i++)
        {
            attrOffsets[i + 1] = attrOffsets[i] + (_itemAttributes.TryGetValue(i, out var a) ? a.Length : 0);
        }

        var attrs = new int[attrOffsets[^1]];
        foreach (var (item, a) in _itemAttributes)
        {
            a.CopyTo(attrs, attrOffsets[item]);
        }

        var fields = _userFields
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv =>
            {
                var values = new int[userCount];
                Array.Fill(values, -1);
                foreach (var (user, value) in kv.Value.Values)
                {
                    values[user] = value;
                }

                return new CategoricalField(kv.Key, kv.Value.Vocab, values);
            })
            .ToList();

        return new InteractionDataset(
            Name, _users, _items, _categories, _attributes, _behaviours,
            new SequenceTable(offsets, items, times), behaviours, category, attrOffsets, attrs, fields);
    }

    private static void StableSortByTime(int[] items, long[] times, byte[] behaviours, int start, int end)
    {
        var sorted = true;
        for (var p = start + 1; p < end; p++)
        {
            if (times[p] < times[p - 1])
            {
                sorted = false;
                break;
            }
        }

        if (sorted)
        {
            return;
        }

        // Sort positions by (time, original position): stable by construction.
        var len = end - start;
        var order = new int[len];
        for (var i = 0; i < len; i++)
        {
            order[i] = start + i;
        }

        Array.Sort(order, (a, b) => times[a] != times[b] ? times[a].CompareTo(times[b]) : a.CompareTo(b));
        var it = new int[len];
        var ti = new long[len];
        var be = new byte[len];
        for (var i = 0; i < len; i++)
        {
            it[i] = items[order[i]];
            ti[i] = times[order[i]];
            be[i] = behaviours[order[i]];
        }

        it.CopyTo(items, start);
        ti.CopyTo(times, start);
        be.CopyTo(behaviours, start);
    }
}
