namespace MIC.Streaming.Trainer;

/// <summary>One next-item example from the stream: the user's items before the click, and the click.</summary>
public readonly record struct StreamExample(int User, int Target, int[] History, long ProducedMs);

/// <summary>
/// The trainer's bounded memory of the stream: the most recent examples (a ring of
/// <c>recent</c>) plus a uniform reservoir of older ones (Vitter's algorithm R over everything
/// that left the ring), so an update trains on what is new while replaying a fair sample of the
/// past against forgetting. Examples arrive untrained; <see cref="TakeNew"/> hands them to an
/// update. Saved with each published version and restored by a trainer that takes over.
/// </summary>
public sealed class ReplayWindow(int recent, int reservoir, int seed)
{
    private readonly Queue<StreamExample> _recent = new();
    private readonly List<StreamExample> _reservoir = [];
    private readonly List<StreamExample> _new = [];
    private Random _rng = new(seed);

    /// <summary>Examples that ever left the ring (the reservoir's population).</summary>
    public long Evicted { get; private set; }

    /// <summary>Examples added and not yet trained on.</summary>
    public int NewCount => _new.Count;

    public int Count => _recent.Count + _reservoir.Count;

    public void Add(StreamExample example)
    {
        _new.Add(example);
        _recent.Enqueue(example);
        if (_recent.Count > recent)
        {
            Retire(_recent.Dequeue());
        }
    }

    /// <summary>The untrained examples (oldest first); they are now counted as trained.</summary>
    public List<StreamExample> TakeNew()
    {
        var taken = new List<StreamExample>(_new);
        _new.Clear();
        return taken;
    }

    /// <summary>A uniform sample (with replacement) of the trained examples, for replay.</summary>
    public List<StreamExample> Sample(int count)
    {
        var pool = _recent.Count + _reservoir.Count - _new.Count;
        var result = new List<StreamExample>(Math.Max(0, count));
        if (pool <= 0 || count <= 0)
        {
            return result;
        }

        var recentTrained = _recent.Count - Math.Min(_new.Count, _recent.Count);
        var recentArray = recentTrained > 0 ? _recent.Take(recentTrained).ToArray() : [];
        for (var i = 0; i < count; i++)
        {
            var r = _rng.Next(recentArray.Length + _reservoir.Count);
            result.Add(r < recentArray.Length ? recentArray[r] : _reservoir[r - recentArray.Length]);
        }

        return result;
    }

    /// <summary>
    /// After the catalog evicted users (<see cref="LiveCatalog.Evict"/>): every example's user row
    /// follows the user to its new row, and the examples of evicted users are forgotten (they are the
    /// least recently active; their rows now belong to nobody). Returns how many were dropped.
    /// </summary>
    public int RemapUsers(int[] oldToNew)
    {
        ArgumentNullException.ThrowIfNull(oldToNew);
        bool Kept(StreamExample e) => e.User >= 0 && e.User < oldToNew.Length && oldToNew[e.User] >= 0;
        StreamExample Map(StreamExample e) => e with { User = oldToNew[e.User] };
        var before = _recent.Count + _reservoir.Count;
        var recentExamples = _recent.Where(Kept).Select(Map).ToList();
        _recent.Clear();
        foreach (var e in recentExamples)
        {
            _recent.Enqueue(e);
        }

        var reservoirExamples = _reservoir.Where(Kept).Select(Map).ToList();
        _reservoir.Clear();
        _reservoir.AddRange(reservoirExamples);
        var newExamples = _new.Where(Kept).Select(Map).ToList();
        _new.Clear();
        _new.AddRange(newExamples);
        return before - (_recent.Count + _reservoir.Count);
    }

    /// <summary>Writes every example and the sampler state.</summary>
    public void Save(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Evicted);
        Write(writer, _recent.ToList());
        Write(writer, _reservoir);
        Write(writer, _new);
    }

    /// <summary>Restores what <see cref="Save"/> wrote (sizes are re-bounded by this window's limits).</summary>
    public void Load(BinaryReader reader, int seed)
    {
        ArgumentNullException.ThrowIfNull(reader);
        _recent.Clear();
        _reservoir.Clear();
        _new.Clear();
        Evicted = reader.ReadInt64();
        foreach (var e in Read(reader))
        {
            _recent.Enqueue(e);
        }

        _reservoir.AddRange(Read(reader));
        _new.AddRange(Read(reader));
        while (_recent.Count > recent)
        {
            Retire(_recent.Dequeue());
        }

        if (_reservoir.Count > reservoir)
        {
            _reservoir.RemoveRange(reservoir, _reservoir.Count - reservoir);
        }

        _rng = new Random(seed);
    }

    private void Retire(StreamExample example)
    {
        Evicted++;
        if (reservoir == 0)
        {
            return;
        }

        if (_reservoir.Count < reservoir)
        {
            _reservoir.Add(example);
            return;
        }

        var j = _rng.NextInt64(Evicted);
        if (j < reservoir)
        {
            _reservoir[(int)j] = example;
        }
    }

    private static void Write(BinaryWriter writer, List<StreamExample> examples)
    {
        writer.Write(examples.Count);
        foreach (var e in examples)
        {
            writer.Write(e.User);
            writer.Write(e.Target);
            writer.Write(e.ProducedMs);
            writer.Write(e.History.Length);
            foreach (var h in e.History)
            {
                writer.Write(h);
            }
        }
    }

    private static List<StreamExample> Read(BinaryReader reader)
    {
        var n = reader.ReadInt32();
        if (n < 0)
        {
            throw new InvalidDataException("Corrupt replay window: negative count.");
        }

        var result = new List<StreamExample>(n);
        for (var i = 0; i < n; i++)
        {
            var user = reader.ReadInt32();
            var target = reader.ReadInt32();
            var produced = reader.ReadInt64();
            var len = reader.ReadInt32();
            if (len is < 0 or > 100_000)
            {
                throw new InvalidDataException("Corrupt replay window: bad history length.");
            }

            var history = new int[len];
            for (var h = 0; h < len; h++)
            {
                history[h] = reader.ReadInt32();
            }

            result.Add(new StreamExample(user, target, history, produced));
        }

        return result;
    }
}
