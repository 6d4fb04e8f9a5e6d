using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Model.Training;

/// <summary>
/// Next-item examples (ComiRec/YouTubeDNN style): a user, the items before the target (the
/// history prefix) and the target item. Built from train sequences (every position t ≥ 1 of every
/// user) or given explicitly, as the streaming trainer's replay window does.
/// </summary>
public sealed class TrainingExamples
{
    private readonly int[] _items;          // flat storage the histories point into
    private readonly int[] _historyStart;   // per example: first history item in _items
    private readonly int[] _historyLength;  // per example: full prefix length (HistoryOf keeps the last maxLen)
    private readonly int[] _targets;

    public TrainingExamples(SequenceTable train)
    {
        ArgumentNullException.ThrowIfNull(train);
        var users = new List<int>();
        var starts = new List<int>();
        var lengths = new List<int>();
        var targets = new List<int>();
        for (var u = 0; u < train.UserCount; u++)
        {
            for (var t = 1; t < train.Length(u); t++)
            {
                users.Add(u);
                starts.Add(train.Offsets[u]);
                lengths.Add(t);
                targets.Add(train.Items[train.Offsets[u] + t]);
            }
        }

        _items = train.Items;
        Users = [.. users];
        _historyStart = [.. starts];
        _historyLength = [.. lengths];
        _targets = [.. targets];
    }

    /// <summary>Explicit examples: <paramref name="histories"/>[e] is example e's history, oldest first.</summary>
    public TrainingExamples(int[] users, IReadOnlyList<int[]> histories, int[] targets)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(histories);
        ArgumentNullException.ThrowIfNull(targets);
        if (users.Length != histories.Count || users.Length != targets.Length)
        {
            throw new ArgumentException("users, histories and targets must have one entry per example.");
        }

        _items = new int[histories.Sum(h => h.Length)];
        _historyStart = new int[users.Length];
        _historyLength = new int[users.Length];
        var at = 0;
        for (var e = 0; e < users.Length; e++)
        {
            histories[e].CopyTo(_items, at);
            _historyStart[e] = at;
            _historyLength[e] = histories[e].Length;
            at += histories[e].Length;
        }

        Users = users;
        _targets = targets;
    }

    public int[] Users { get; }

    public int Count => Users.Length;

    /// <summary>The last (at most) <paramref name="maxLen"/> items before the target.</summary>
    public ReadOnlyMemory<int> HistoryOf(int example, int maxLen)
    {
        var length = _historyLength[example];
        var keep = Math.Min(length, maxLen);
        return _items.AsMemory(_historyStart[example] + length - keep, keep);
    }

    public int TargetOf(int example) => _targets[example];
}
