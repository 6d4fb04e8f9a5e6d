using System.Collections.Concurrent;
using System.Globalization;

namespace MIC.Streaming.Core.Baselines;

/// <summary>A baseline that cannot run on this dataset (e.g. EASE^R on a catalogue too large for its dense inverse).</summary>
public sealed class BaselineNotApplicableException(string message) : InvalidOperationException(message);

/// <summary>
/// A baseline the CLI can build by name: its one tunable setting (e.g. ItemCF's neighbours), the
/// values tried on validation users, and the value used when tuning is off.
/// </summary>
/// <param name="Name">The <c>--model</c> name.</param>
/// <param name="Setting">The setting's name (empty when the baseline has none).</param>
/// <param name="Grid">The values tried when tuning, in order.</param>
/// <param name="Default">The value used without tuning.</param>
/// <param name="Create">Builds an unfitted recommender for one value (validated by the caller).</param>
public sealed record BaselineSpec(string Name, string Setting, IReadOnlyList<string> Grid, string Default, Func<string, IRecommender> Create)
{
    public bool Tunable => Grid.Count > 1;

    /// <summary>Null when <paramref name="value"/> is acceptable for this baseline, else why not.</summary>
    public string? Check(string value)
    {
        if (!Tunable)
        {
            return value.Length == 0 ? null : $"{Name} has no setting.";
        }

        try
        {
            Create(value);
            return null;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            return $"{Name} {Setting} '{value}' is not valid ({e.Message.Split('(')[0].Trim()}); use e.g. {string.Join(", ", Grid)}.";
        }
    }
}

/// <summary>
/// The baseline registry used by the CLI (<c>--model</c>). Core's baselines are built in; a library
/// that needs more than Core (EASE^R needs TorchSharp's linear algebra) calls <see cref="Register"/>
/// once at start-up.
/// </summary>
public static class Recommenders
{
    private static readonly ConcurrentDictionary<string, BaselineSpec> Specs = new(StringComparer.OrdinalIgnoreCase);
    private static readonly List<string> Order = [];

    static Recommenders()
    {
        Register(new BaselineSpec("mostpop", string.Empty, [string.Empty], string.Empty, _ => new MostPop()));
        Register(new BaselineSpec("itemcf", "neighbours", ["20", "50", "100", "200", "500", "all"], "100", v => new ItemCF(Count(v))));
        Register(new BaselineSpec("usercf", "neighbours", ["10", "20", "50", "100", "200", "500", "all"], "50", v => new UserCF(Count(v))));
    }

    /// <summary>Registered names, in registration order.</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            lock (Order)
            {
                return [.. Order];
            }
        }
    }

    /// <summary>Adds (or replaces) a baseline.</summary>
    public static void Register(BaselineSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        lock (Order)
        {
            if (Specs.TryAdd(spec.Name, spec))
            {
                Order.Add(spec.Name.ToLowerInvariant());
            }
            else
            {
                Specs[spec.Name] = spec;
            }
        }
    }

    public static BaselineSpec Spec(string name) =>
        Specs.TryGetValue(name, out var spec) ? spec : throw new ArgumentException($"Unknown model '{name}'. Known: {string.Join(", ", Names)}.", nameof(name));

    /// <summary>Builds a baseline with <paramref name="value"/> for its setting (its default when null).</summary>
    public static IRecommender Create(string name, string? value = null)
    {
        var spec = Spec(name);
        return spec.Create(value ?? spec.Default);
    }

    /// <summary>A neighbour count: a positive integer, or <c>all</c> (null).</summary>
    public static int? Count(string value)
    {
        if (string.Equals(value, "all", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"'{value}' is not a positive count or 'all'.", nameof(value));
    }
}
