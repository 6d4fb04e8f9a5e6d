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
    private readonly Dictionary<int, string> _newCategories = [];   // item row → category raw id (items added or re-labelled since the base)
    private readonly Dictionary<(int User, string Field), string> _newFields = [];
    private readonly int _maxSequence;
    private InteractionDataset _base = null!;
    private IdVocabulary _users = null!;
    private IdVocabulary _items = null!;
    private List<List<(int Item, long Time)>> _sequences = null!;
    private HashSet<string> _knownFields = null!;

    public LiveCatalog(InteractionDataset baseDataset, int maxSequence)
    {
        ArgumentNullException.ThrowIfNull(baseDataset);
        _maxSequence = maxSequence;
        Reset(baseDataset);
    }

    /// <summary>Users evicted so far by <see cref="Evict"/>.</summary>
    public long EvictedUsers { get; private set; }

    /// <summary>
    /// Bounds the user side (Monolith-style expiring rows): keeps the <paramref name="capacity"/> users
    /// who clicked most recently and forgets the others — their row, recent sequence and fields. The
    /// model has no per-user weights, so a forgotten user who returns is served and trained from the
    /// live sequence its user grain holds (Redis), like any user the trainer has not seen; the trainer
    /// rebuilds its own copy from the clicks that follow. Users keep their relative order, so the
    /// returned map (old row → new row, −1 = evicted) is increasing; items are never renumbered.
    /// Returns null when nothing was evicted.
    /// </summary>
    public int[]? Evict(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var users = _users.Count;
        if (users <= capacity)
        {
            return null;
        }

        var last = new long[users];
        for (var u = 0; u < users; u++)
        {
            last[u] = _sequences[u].Count > 0 ? _sequences[u][^1].Time : long.MinValue;
        }

        var keep = new bool[users];
        foreach (var u in Enumerable.Range(0, users).OrderByDescending(u => last[u]).ThenByDescending(u => u).Take(capacity))
        {
            keep[u] = true;
        }

        var compacted = Build(_base.Name, u => keep[u]);
        var oldToNew = new int[users];
        for (int u = 0, next = 0; u < users; u++)
        {
            oldToNew[u] = keep[u] ? next++ : -1;
        }

        Reset(compacted);
        EvictedUsers += users - capacity;
        return oldToNew;
    }

    /// <summary>Starts again from <paramref name="baseDataset"/>: its ids at their rows, its users' recent sequences.</summary>
    private void Reset(InteractionDataset baseDataset)
    {
        _base = baseDataset;
        _users = new IdVocabulary();
        _items = new IdVocabulary();
        _sequences = [];
        _newCategories.Clear();
        _newFields.Clear();
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
            var keep = Math.Min(items.Length, _maxSequence);
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
    public InteractionDataset Build(string name) => Build(name, null);

    private InteractionDataset Build(string name, Func<int, bool>? keepUser)
    {
        var builder = new DatasetBuilder(name);
        builder.SeedFrom(_base, keepUser);
        for (var i = _base.ItemCount; i < _items.Count; i++)
        {
            builder.Items.GetOrAdd(_items.GetRaw(i));
        }

        for (var u = _base.UserCount; u < _users.Count; u++)
        {
            if (keepUser is null || keepUser(u))
            {
                builder.Users.GetOrAdd(_users.GetRaw(u));
            }
        }

        foreach (var (item, category) in _newCategories.OrderBy(p => p.Key))
        {
            builder.SetItemCategory(_items.GetRaw(item), category);
        }

        foreach (var ((user, field), value) in _newFields)
        {
            if (keepUser is null || keepUser(user))
            {
                builder.SetUserField(_users.GetRaw(user), field, value);
            }
        }

        for (var u = 0; u < _sequences.Count; u++)
        {
            if (keepUser is not null && !keepUser(u))
            {
                continue;
            }

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
