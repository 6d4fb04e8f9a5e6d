using System.Globalization;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Events;

namespace MIC.Streaming.Core.Synthetic;

/// <summary>
/// An endless click stream that continues a dataset in its own item space, so a live demo keeps
/// streaming after the recorded clicks run out. Each click picks a user at random (from the given
/// users) and follows the data: with probability <c>follow</c> it takes one of the user's last
/// <see cref="Anchors"/> items and clicks the item that came after it in some recorded sequence (a
/// random occurrence: a step over "clicked next" that stays near the user's interests instead of
/// wandering off), otherwise it clicks an item in proportion to its popularity. Event ids are
/// unique (<c>{user}-walk-{n}</c>) and timestamps increase from the dataset's last one.
/// </summary>
public sealed class CoClickWalk
{
    private readonly InteractionDataset _dataset;
    private readonly int[] _users;
    private readonly int[] _occurrenceOffsets; // CSR over items: positions (into Sequences.Items) where the item occurs
    private readonly int[] _occurrences;
    private readonly double _follow;
    private readonly Random _random;
    /// <summary>How many of a user's newest items a step may start from.</summary>
    public const int Anchors = 5;

    private readonly Dictionary<int, List<int>> _recent = [];
    private long _time;
    private long _counter;

    public CoClickWalk(InteractionDataset dataset, IReadOnlyList<int> users, int seed, double follow = 0.97)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(users);
        if (users.Count == 0 || dataset.InteractionCount == 0)
        {
            throw new ArgumentException("The walk needs at least one user and one interaction.");
        }

        _dataset = dataset;
        _users = [.. users];
        _follow = follow;
        _random = new Random(seed);
        var items = dataset.Sequences.Items;
        _occurrenceOffsets = new int[dataset.ItemCount + 1];
        foreach (var item in items)
        {
            _occurrenceOffsets[item + 1]++;
        }

        for (var i = 0; i < dataset.ItemCount; i++)
        {
            _occurrenceOffsets[i + 1] += _occurrenceOffsets[i];
        }

        _occurrences = new int[items.Length];
        var fill = (int[])_occurrenceOffsets.Clone();
        for (var p = 0; p < items.Length; p++)
        {
            _occurrences[fill[items[p]]++] = p;
        }

        _time = dataset.Sequences.Timestamps.Length == 0 ? 0 : dataset.Sequences.Timestamps.Max();
        foreach (var u in _users)
        {
            var seq = dataset.Sequences.Sequence(u);
            _recent[u] = [.. seq[Math.Max(0, seq.Length - Anchors)..]];
        }
    }

    /// <summary>The next click (never ends).</summary>
    public ClickEvent Next()
    {
        var user = _users[_random.Next(_users.Length)];
        var recent = _recent[user];
        var item = _random.NextDouble() < _follow && FollowFrom(recent) is { } next
            ? next
            : _dataset.Sequences.Items[_random.Next(_dataset.Sequences.Items.Length)]; // popularity-proportional
        recent.Add(item);
        if (recent.Count > Anchors)
        {
            recent.RemoveAt(0);
        }

        var userId = _dataset.Users.GetRaw(user);
        return new ClickEvent(
            string.Create(CultureInfo.InvariantCulture, $"{userId}-walk-{_counter++}"),
            userId,
            _dataset.Items.GetRaw(item),
            ++_time);
    }

    /// <summary>A next item from one of the anchors, tried from a random starting anchor.</summary>
    private int? FollowFrom(List<int> anchors)
    {
        var start = anchors.Count == 0 ? 0 : _random.Next(anchors.Count);
        for (var i = 0; i < anchors.Count; i++)
        {
            if (NextAfter(anchors[(start + i) % anchors.Count]) is { } next)
            {
                return next;
            }
        }

        return null;
    }

    /// <summary>The item that followed <paramref name="item"/> at a random recorded occurrence, if any.</summary>
    private int? NextAfter(int item)
    {
        var from = _occurrenceOffsets[item];
        var count = _occurrenceOffsets[item + 1] - from;
        var offsets = _dataset.Sequences.Offsets;
        for (var attempt = 0; attempt < 4 && count > 0; attempt++)
        {
            var position = _occurrences[from + _random.Next(count)];
            // The position's user: the sequence whose range holds it (binary search over the CSR offsets).
            var u = Array.BinarySearch(offsets, position);
            u = u >= 0 ? u : ~u - 1;
            while (u + 1 < offsets.Length && offsets[u + 1] <= position)
            {
                u++;
            }

            if (position + 1 < offsets[u + 1])
            {
                return _dataset.Sequences.Items[position + 1];
            }
        }

        return null;
    }
}
