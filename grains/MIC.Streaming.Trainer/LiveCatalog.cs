using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Events;

namespace MIC.Streaming.Trainer;

/// <summary>
/// The trainer's view of the stream: append-only vocabularies (a user or item keeps its row for
/// the life of the model: row r of every embedding table is id r, so tables can grow) and every
/// user's most recent items. Starts from a version's dataset and turns back into one at publish
/// (the vocabularies, categories and user fields the weights are indexed by, and the recent
/// sequences the U2U2I channel ranks).
/// </summary>
public sealed class LiveCatalog
{
    private readonly InteractionDataset _base;
    private readonly IdVocabulary _users = new();
    private readonly IdVocabulary _items = new();
    private readonly List<List<(int Item, long Time)>> _sequences = [];
    private readonly Dictionary<int, string> _newCategories = [];   // item row → category raw id (items added or re-labelled since the base)
    private readonly Dictionary<(int User, string Field), string> _newFields = [];
    private readonly HashSet<string> _knownFields;
    private readonly int _maxSequence;

    public LiveCatalog(InteractionDataset baseDataset, int maxSequence)
    {
        ArgumentNullException.ThrowIfNull(baseDataset);
        _base = baseDataset;
        _maxSequence = maxSequence;
        _knownFields = [.. baseDataset.UserFields.Select(f => f.Name)];
        foreach (var raw in baseDataset.Users.RawIds)
        {
            _users.GetOrAdd(raw);
        }

        foreach (var raw in baseDataset.Items.RawIds)
        {
            _items.GetOrAdd(raw);
        }

        var seq = baseDataset.Sequences;
        for (var u = 0; u < baseDataset.UserCount; u++)
        {
            var items = seq.Sequence(u);
            var times = seq.SequenceTimes(u);
            var keep = Math.Min(items.Length, maxSequence);
            var list = new List<(int, long)>(keep + 1);
            for (var i = items.Length - keep; i < items.Length; i++)
            {
                list.Add((items[i], times[i]));
            }

            _sequences.Add(list);
        }
    }

    public IdVocabulary Users => _users;

    public IdVocabulary Items => _items;

    public int UserCount => _users.Count;

    public int ItemCount => _items.Count;

    /// <summary>The user's recent item rows, oldest first.</summary>
    public IReadOnlyList<(int Item, long Time)> SequenceOf(int user) => _sequences[user];

    /// <summary>
    /// Adds an event: rows for new ids, the item's category, known user fields; appends the item to
    /// the user's sequence. Returns the rows and the history before this event (up to <paramref name="maxHistory"/>).
    /// </summary>
    public (int User, int Item, int[] History) Observe(ClickEvent evt, int maxHistory)
    {
        ArgumentNullException.ThrowIfNull(evt);
        var user = _users.GetOrAdd(evt.UserId);
        if (user == _sequences.Count)
        {
            _sequences.Add([]);
        }

        var item = _items.GetOrAdd(evt.ItemId);
        if (evt.Category is { Length: > 0 } category && CategoryDiffers(item, category))
        {
            _newCategories[item] = category;
        }

        if (evt.Fields is { Count: > 0 } fields)
        {
            foreach (var (name, value) in fields)
            {
                if (_knownFields.Contains(name))
                {
                    _newFields[(user, name)] = value; // new field names would reorder the field tables: ignored
                }
            }
        }

        var sequence = _sequences[user];
        var take = Math.Min(sequence.Count, maxHistory);
        var history = new int[take];
        for (var i = 0; i < take; i++)
        {
            history[i] = sequence[sequence.Count - take + i].Item;
        }

        sequence.Add((item, evt.Timestamp));
        if (sequence.Count > _maxSequence)
        {
            sequence.RemoveAt(0);
        }

        return (user, item, history);
    }

    /// <summary>
    /// The dataset of the current state: every id at its row (base ids first, then new ones in
    /// arrival order), categories and fields, and each user's recent sequence.
    /// </summary>
    public InteractionDataset Build(string name)
    {
        var builder = new DatasetBuilder(name);
        builder.SeedFrom(_base);
        for (var i = _base.ItemCount; i < _items.Count; i++)
        {
            builder.Items.GetOrAdd(_items.GetRaw(i));
        }

        for (var u = _base.UserCount; u < _users.Count; u++)
        {
            builder.Users.GetOrAdd(_users.GetRaw(u));
        }

        foreach (var (item, category) in _newCategories.OrderBy(p => p.Key))
        {
            builder.SetItemCategory(_items.GetRaw(item), category);
        }

        foreach (var ((user, field), value) in _newFields)
        {
            builder.SetUserField(_users.GetRaw(user), field, value);
        }

        for (var u = 0; u < _sequences.Count; u++)
        {
            var userRaw = _users.GetRaw(u);
            foreach (var (item, time) in _sequences[u])
            {
                builder.Add(userRaw, _items.GetRaw(item), time);
            }
        }

        return builder.Build();
    }

    private bool CategoryDiffers(int item, string category)
    {
        if (_newCategories.TryGetValue(item, out var current))
        {
            return !string.Equals(current, category, StringComparison.Ordinal);
        }

        if (item < _base.ItemCount && _base.ItemCategory[item] >= 0)
        {
            return !string.Equals(_base.Categories.GetRaw(_base.ItemCategory[item]), category, StringComparison.Ordinal);
        }

        return true;
    }
}
