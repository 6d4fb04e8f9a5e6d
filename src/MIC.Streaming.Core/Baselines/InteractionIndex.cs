using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Baselines;

/// <summary>
/// Distinct item sets per user and the inverted item → users lists, both CSR. Shared by the
/// neighbourhood baselines (ItemCF, UserCF).
/// </summary>
internal sealed class InteractionIndex
{
    public InteractionIndex(SequenceTable train, int itemCount)
    {
        var users = train.UserCount;
        UserOffsets = new int[users + 1];
        var distinct = new List<int>(train.InteractionCount);
        var seen = new HashSet<int>();
        for (var u = 0; u < users; u++)
        {
            seen.Clear();
            foreach (var item in train.Sequence(u))
            {
                if (seen.Add(item))
                {
                    distinct.Add(item);
                }
            }

            UserOffsets[u + 1] = distinct.Count;
        }

        UserItems = [.. distinct];
        ItemOffsets = new int[itemCount + 1];
        foreach (var item in UserItems)
        {
            ItemOffsets[item + 1]++;
        }

        for (var i = 0; i < itemCount; i++)
        {
            ItemOffsets[i + 1] += ItemOffsets[i];
        }

        ItemUsers = new int[UserItems.Length];
        var cursor = ItemOffsets[..^1].ToArray();
        for (var u = 0; u < users; u++)
        {
            for (var p = UserOffsets[u]; p < UserOffsets[u + 1]; p++)
            {
                ItemUsers[cursor[UserItems[p]]++] = u;
            }
        }
    }

    public int[] UserOffsets { get; }

    public int[] UserItems { get; }

    public int[] ItemOffsets { get; }

    public int[] ItemUsers { get; }

    public int ItemCount => ItemOffsets.Length - 1;

    public int UserCount => UserOffsets.Length - 1;

    public ReadOnlySpan<int> ItemsOf(int user) => UserItems.AsSpan(UserOffsets[user], UserOffsets[user + 1] - UserOffsets[user]);

    public ReadOnlySpan<int> UsersOf(int item) => ItemUsers.AsSpan(ItemOffsets[item], ItemOffsets[item + 1] - ItemOffsets[item]);

    public int UserDegree(int user) => UserOffsets[user + 1] - UserOffsets[user];

    public int ItemDegree(int item) => ItemOffsets[item + 1] - ItemOffsets[item];
}

/// <summary>A dense accumulator that remembers which slots it touched, so clearing costs O(touched).</summary>
internal sealed class SparseAccumulator(int size)
{
    private readonly float[] _values = new float[size];
    private readonly List<int> _touched = [];

    public List<int> Touched => _touched;

    public float this[int i] => _values[i];

    public void Add(int i, float v)
    {
        if (_values[i] == 0)
        {
            _touched.Add(i);
        }

        _values[i] += v;
    }

    public void Clear()
    {
        foreach (var i in _touched)
        {
            _values[i] = 0;
        }

        _touched.Clear();
    }
}

/// <summary>A lock-free pool of per-call scratch objects, so Recommend stays thread-safe without per-call allocation.</summary>
internal sealed class ScratchPool<T>(Func<T> create)
    where T : class
{
    private readonly System.Collections.Concurrent.ConcurrentBag<T> _items = [];

    public T Rent() => _items.TryTake(out var item) ? item : create();

    public void Return(T item) => _items.Add(item);
}
