using System.Globalization;
using MIC.Streaming.Core.Events;

namespace MIC.Streaming.Core.Synthetic;

/// <summary>Knobs of <see cref="DriftingClicks"/>.</summary>
public sealed record DriftOptions
{
    public int Users { get; init; } = 500;

    /// <summary>Items at the start; every later phase adds <see cref="NewItemsPerPhase"/> more.</summary>
    public int Items { get; init; } = 600;

    public int NewItemsPerPhase { get; init; } = 300;

    /// <summary>Latent item groups; a user's interests are groups.</summary>
    public int Groups { get; init; } = 12;

    public int InterestsPerUser { get; init; } = 2;

    /// <summary>Share of a phase's clicks that go to items added in that phase (the catalogue's news).</summary>
    public double NewItemShare { get; init; } = 0.5;

    /// <summary>Probability that a click follows the user's interests (else any item: noise).</summary>
    public double InterestProbability { get; init; } = 0.9;

    public long StartTimestamp { get; init; } = 1_700_000_000;

    public int Seed { get; init; } = 5;
}

/// <summary>
/// A click stream whose structure drifts, for the streaming trainer's tests, demo and benchmarks:
/// items belong to latent groups and users click inside their interest groups, but at each phase
/// (1) every existing item is reassigned to a new random group (what sells together changes) and
/// (2) new items arrive and take a large share of the clicks. A model frozen after phase 0 keeps
/// recommending the old neighbourhoods and can never recommend a new item; a model that keeps
/// learning from the stream can. Events are interleaved across users in time order.
/// </summary>
public sealed class DriftingClicks
{
    private readonly DriftOptions _options;
    private readonly int[][] _userGroups;

    public DriftingClicks(DriftOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Users < 1 || options.Items < options.Groups || options.Groups < 1 || options.InterestsPerUser < 1 || options.InterestsPerUser > options.Groups || options.NewItemsPerPhase < 0)
        {
            throw new ArgumentException("Need Users ≥ 1, Items ≥ Groups ≥ 1, 1 ≤ InterestsPerUser ≤ Groups, NewItemsPerPhase ≥ 0.");
        }

        _options = options;
        var rng = new Random(options.Seed);
        _userGroups = new int[options.Users][];
        for (var u = 0; u < options.Users; u++)
        {
            _userGroups[u] = [.. Enumerable.Range(0, options.Groups).OrderBy(_ => rng.Next()).Take(options.InterestsPerUser)];
        }
    }

    public DriftOptions Options => _options;

    /// <summary>Item count during <paramref name="phase"/>.</summary>
    public int ItemsIn(int phase) => _options.Items + (phase * _options.NewItemsPerPhase);

    /// <summary>The events of one phase: <paramref name="eventsPerUser"/> per user, round-robin over users.</summary>
    public IEnumerable<ClickEvent> Phase(int phase, int eventsPerUser)
    {
        var rng = new Random(HashCode.Combine(_options.Seed, phase));
        var items = ItemsIn(phase);
        var firstNew = phase == 0 ? items : ItemsIn(phase - 1);
        // This phase's grouping: a fresh random permutation of every item.
        var order = Enumerable.Range(0, items).OrderBy(_ => rng.Next()).ToArray();
        var groupOld = new List<int>[_options.Groups];
        var groupNew = new List<int>[_options.Groups];
        for (var g = 0; g < _options.Groups; g++)
        {
            groupOld[g] = [];
            groupNew[g] = [];
        }

        for (var rank = 0; rank < order.Length; rank++)
        {
            var item = order[rank];
            (item >= firstNew ? groupNew : groupOld)[rank % _options.Groups].Add(item);
        }

        var time = _options.StartTimestamp + (phase * 1_000_000L);
        for (var step = 0; step < eventsPerUser; step++)
        {
            for (var u = 0; u < _options.Users; u++)
            {
                int item;
                if (rng.NextDouble() < _options.InterestProbability)
                {
                    var g = _userGroups[u][rng.Next(_userGroups[u].Length)];
                    var useNew = groupNew[g].Count > 0 && rng.NextDouble() < _options.NewItemShare;
                    var pool = useNew ? groupNew[g] : groupOld[g];
                    item = pool[Skewed(rng, pool.Count)];
                }
                else
                {
                    item = rng.Next(items);
                }

                var user = "u" + u.ToString(CultureInfo.InvariantCulture);
                yield return new ClickEvent(
                    $"{user}-p{phase}-{step}", user, "i" + item.ToString(CultureInfo.InvariantCulture), time++);
            }
        }
    }

    /// <summary>A popularity-skewed index in 0..n-1 (squared uniform: the head is clicked more).</summary>
    private static int Skewed(Random rng, int n)
    {
        var x = rng.NextDouble();
        return Math.Min(n - 1, (int)(x * x * n));
    }
}
