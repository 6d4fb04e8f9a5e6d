using MIC.Streaming.Grains;
using MIC.Streaming.Grains.Serving;

namespace MIC.Streaming.Trainer;

/// <summary>
/// Prequential (test-then-train) evaluation: for a sampled share of incoming events, before the
/// trainer learns from them, asks what the served version would have answered that user at that
/// moment (same code path as a serving silo: <see cref="ServingModel.Retrieve"/> on the version
/// loaded from the model store, with the user's live history) and records whether the clicked item
/// was in each channel's top-K. Optionally scores the frozen first version on the same events.
/// </summary>
public sealed class PrequentialEvaluator : IDisposable
{
    public static readonly (string Name, RetrievalChannels Channels)[] Channels =
    [
        ("u2i", RetrievalChannels.U2I),
        ("u2u2i", RetrievalChannels.U2U2I),
        ("u2i2i", RetrievalChannels.U2I2I),
        ("merged", RetrievalChannels.U2I | RetrievalChannels.U2U2I | RetrievalChannels.U2I2I),
    ];

    private readonly int _k;
    private readonly int _window;
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Model, string Channel), Queue<(int User, bool Hit)>> _recent = [];
    private readonly Dictionary<(string Model, string Channel), (long N, long Hits)> _sinceRow = [];
    private ServingModel? _live;
    private ServingModel? _frozen;

    public PrequentialEvaluator(int k, int window)
    {
        _k = k;
        _window = window;
    }

    public int K => _k;

    public long Evaluated { get; private set; }

    /// <summary>The version being served (the one to score against); the evaluator owns it.</summary>
    public void SetLive(ServingModel model)
    {
        var old = _live;
        _live = model;
        old?.Dispose();
    }

    /// <summary>The frozen baseline (the first version this trainer started from); owned.</summary>
    public void SetFrozen(ServingModel model)
    {
        var old = _frozen;
        _frozen = model;
        old?.Dispose();
    }

    public bool HasFrozen => _frozen is { IsReady: true };

    /// <summary>Scores one event before it is trained on. <paramref name="recent"/>: the user's items before it, oldest first.</summary>
    public void Evaluate(int userRow, string userId, string[] recent, string target)
    {
        if (_live is not { IsReady: true } live || recent.Length == 0)
        {
            return; // nothing served yet, or a cold-start user (popularity): not a channel question
        }

        Evaluated++;
        Score("live", live, userRow, userId, recent, target);
        if (_frozen is { IsReady: true } frozen)
        {
            Score("frozen", frozen, userRow, userId, recent, target);
        }
    }

    private void Score(string model, ServingModel serving, int userRow, string userId, string[] recent, string target)
    {
        var items = new RecentItems(recent, null, null);
        foreach (var (channel, flags) in Channels)
        {
            var response = serving.Retrieve(userId, items, _k, flags);
            var hit = false;
            foreach (var c in response.Items)
            {
                // Popularity top-up is not the channel's answer: only the channel's own candidates count.
                if ((c.Channels & flags) != 0 && string.Equals(c.ItemId, target, StringComparison.Ordinal))
                {
                    hit = true;
                    break;
                }
            }

            Record(model, channel, userRow, hit);
        }
    }

    private void Record(string model, string channel, int user, bool hit)
    {
        lock (_gate)
        {
            if (!_recent.TryGetValue((model, channel), out var queue))
            {
                _recent[(model, channel)] = queue = new Queue<(int, bool)>();
            }

            queue.Enqueue((user, hit));
            if (queue.Count > _window)
            {
                queue.Dequeue();
            }

            var (n, hits) = _sinceRow.GetValueOrDefault((model, channel));
            _sinceRow[(model, channel)] = (n + 1, hits + (hit ? 1 : 0));
        }
    }

    /// <summary>
    /// Recall@K (share of evaluated clicks found in the channel's top-K) and HitRate@K (share of
    /// evaluated users with at least one such click) over the last evaluated events.
    /// </summary>
    public OnlineRecall[] Snapshot()
    {
        lock (_gate)
        {
            return [.. _recent.OrderBy(p => p.Key.Model).ThenBy(p => Array.FindIndex(Channels, c => c.Name == p.Key.Channel)).Select(p =>
            {
                var hits = p.Value.Count(e => e.Hit);
                var users = p.Value.Select(e => e.User).Distinct().Count();
                var usersHit = p.Value.Where(e => e.Hit).Select(e => e.User).Distinct().Count();
                return new OnlineRecall(p.Key.Channel, p.Key.Model, _k, p.Value.Count, p.Value.Count == 0 ? 0 : (double)hits / p.Value.Count, users == 0 ? 0 : (double)usersHit / users);
            })];
        }
    }

    /// <summary>Recall@K per (model, channel) since the previous call: one row of the metrics file.</summary>
    public Dictionary<(string Model, string Channel), (long N, double Recall)> TakeRow()
    {
        lock (_gate)
        {
            var row = _sinceRow.ToDictionary(p => p.Key, p => (p.Value.N, p.Value.N == 0 ? 0 : (double)p.Value.Hits / p.Value.N));
            _sinceRow.Clear();
            return row;
        }
    }

    public void Dispose()
    {
        _live?.Dispose();
        _frozen?.Dispose();
    }
}
