using System.Globalization;
using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Synthetic;

/// <summary>Knobs of the planted structure; every default is what the demo and tests use.</summary>
public sealed record SyntheticOptions
{
    public int Users { get; init; } = 3000;

    public int Items { get; init; } = 2000;

    public int Categories { get; init; } = 20;

    /// <summary>Distinct interest categories per user.</summary>
    public int InterestsPerUser { get; init; } = 2;

    public int MinLength { get; init; } = 5;

    public int MeanLength { get; init; } = 20;

    /// <summary>Probability that a click follows the user's interests (else a globally popular item: noise).</summary>
    public double InterestProbability { get; init; } = 0.85;

    /// <summary>Probability that an interest click stays in the previous click's category (session locality).</summary>
    public double StickProbability { get; init; } = 0.5;

    /// <summary>Zipf exponent of item popularity inside a category and globally.</summary>
    public double ZipfExponent { get; init; } = 0.8;

    /// <summary>Per-click probability that one of the user's interests is replaced by another category (slow drift).</summary>
    public double DriftProbability { get; init; } = 0.02;

    public int BrandsPerCategory { get; init; } = 4;

    /// <summary>Number of coarse user segments (a user field correlated with the primary interest).</summary>
    public int Segments { get; init; } = 5;

    public long StartTimestamp { get; init; } = 1_700_000_000;

    public long SpanSeconds { get; init; } = 30L * 24 * 3600;

    public int Seed { get; init; } = 42;

    public void Validate()
    {
        if (Users < 1 || Items < 1 || Categories < 1 || Categories > Items)
        {
            throw new ArgumentException("Need Users ≥ 1, Items ≥ 1 and 1 ≤ Categories ≤ Items.");
        }

        if (InterestsPerUser < 1 || InterestsPerUser > Categories || MinLength < 1 || MeanLength < MinLength)
        {
            throw new ArgumentException("Need 1 ≤ InterestsPerUser ≤ Categories and 1 ≤ MinLength ≤ MeanLength.");
        }
    }
}

/// <summary>
/// A seeded generator of click streams with planted structure, for the demo, tests and benchmarks
/// on machines without the public datasets:
/// <list type="bullet">
/// <item>items belong to categories and carry a brand attribute; popularity is Zipf-skewed inside
/// each category and globally;</item>
/// <item>each user has a few interest categories; a click follows them with
/// <see cref="SyntheticOptions.InterestProbability"/> (often staying in the previous click's category),
/// otherwise it is a popular item from anywhere;</item>
/// <item>interests drift slowly: each click may swap one interest for a random category;</item>
/// <item>a user field "segment" is derived from the primary interest (a planted user-side signal).</item>
/// </list>
/// Events come out in global time order, as a stream would deliver them.
/// </summary>
public sealed class SyntheticDataGenerator
{
    private readonly SyntheticOptions _options;
    private readonly int[] _itemCategory;
    private readonly int[][] _categoryItems;
    private readonly double[][] _categoryCdf;
    private readonly int[] _globalRanked;
    private readonly double[] _globalCdf;

    public SyntheticDataGenerator(SyntheticOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        var rng = new Random(options.Seed);
        _itemCategory = new int[options.Items];
        for (var i = 0; i < options.Items; i++)
        {
            _itemCategory[i] = i < options.Categories ? i : rng.Next(options.Categories); // every category non-empty
        }

        _categoryItems = new int[options.Categories][];
        _categoryCdf = new double[options.Categories][];
        for (var c = 0; c < options.Categories; c++)
        {
            var items = Enumerable.Range(0, options.Items).Where(i => _itemCategory[i] == c).ToArray();
            Shuffle(items, rng); // popularity rank inside the category is random
            _categoryItems[c] = items;
            _categoryCdf[c] = ZipfCdf(items.Length, options.ZipfExponent);
        }

        _globalRanked = Enumerable.Range(0, options.Items).ToArray();
        Shuffle(_globalRanked, rng);
        _globalCdf = ZipfCdf(options.Items, options.ZipfExponent);
    }

    public SyntheticOptions Options => _options;

    public int CategoryOf(int item) => _itemCategory[item];

    public static string UserId(int user) => "u" + user.ToString(CultureInfo.InvariantCulture);

    public static string ItemId(int item) => "i" + item.ToString(CultureInfo.InvariantCulture);

    public static string CategoryId(int category) => "c" + category.ToString(CultureInfo.InvariantCulture);

    public string BrandOf(int item) => $"b{_itemCategory[item]}_{item % _options.BrandsPerCategory}";

    /// <summary>The primary interest category each user starts with (ground truth for tests).</summary>
    public int PrimaryInterest(int user) => InitialInterests(user)[0];

    /// <summary>All events of all users, in global time order.</summary>
    public IReadOnlyList<RawInteraction> Generate()
    {
        var events = new List<RawInteraction>(_options.Users * _options.MeanLength);
        for (var u = 0; u < _options.Users; u++)
        {
            GenerateUser(u, events);
        }

        events.Sort((a, b) => a.Timestamp.CompareTo(b.Timestamp));
        return events;
    }

    /// <summary>
    /// Builds a dataset with item categories, brand attributes and the segment field. Users are
    /// generated one at a time straight into the builder (no global event list), so this scales to
    /// tens of millions of interactions.
    /// </summary>
    public InteractionDataset BuildDataset(string name = "synthetic")
    {
        var builder = new DatasetBuilder(name);
        var buffer = new List<RawInteraction>(4 * _options.MeanLength);
        for (var u = 0; u < _options.Users; u++)
        {
            buffer.Clear();
            GenerateUser(u, buffer);
            foreach (var e in buffer)
            {
                builder.Add(e);
            }
        }

        for (var i = 0; i < _options.Items; i++)
        {
            builder.SetItemAttributes(ItemId(i), [CategoryId(_itemCategory[i]), BrandOf(i)]);
        }

        for (var u = 0; u < _options.Users; u++)
        {
            builder.SetUserField(UserId(u), "segment", SegmentOf(u));
        }

        return builder.Build();
    }

    public string SegmentOf(int user) =>
        "s" + (PrimaryInterest(user) * _options.Segments / _options.Categories).ToString(CultureInfo.InvariantCulture);

    private int[] InitialInterests(int user)
    {
        var rng = new Random(MixSeed(_options.Seed, user, 17));
        var all = Enumerable.Range(0, _options.Categories).ToArray();
        Shuffle(all, rng);
        return all[.._options.InterestsPerUser];
    }

    private void GenerateUser(int user, List<RawInteraction> events)
    {
        var o = _options;
        var rng = new Random(MixSeed(o.Seed, user, 0));
        var interests = InitialInterests(user);
        var extra = o.MeanLength - o.MinLength;
        var length = o.MinLength + (extra == 0 ? 0 : (int)Math.Floor(-Math.Log(1 - rng.NextDouble()) * extra));
        var time = o.StartTimestamp + (long)(rng.NextDouble() * o.SpanSeconds / 2);
        var meanGap = Math.Max(1.0, o.SpanSeconds / 2.0 / o.MeanLength);
        var lastCategory = -1;
        var userId = UserId(user);
        for (var n = 0; n < length; n++)
        {
            if (rng.NextDouble() < o.DriftProbability)
            {
                interests[rng.Next(interests.Length)] = rng.Next(o.Categories);
            }

            int item;
            if (rng.NextDouble() < o.InterestProbability)
            {
                var category = lastCategory >= 0 && interests.Contains(lastCategory) && rng.NextDouble() < o.StickProbability
                    ? lastCategory
                    : interests[rng.Next(interests.Length)];
                item = _categoryItems[category][Sample(_categoryCdf[category], rng)];
                lastCategory = category;
            }
            else
            {
                item = _globalRanked[Sample(_globalCdf, rng)];
            }

            time += 1 + (long)(-Math.Log(1 - rng.NextDouble()) * meanGap);
            events.Add(new RawInteraction(userId, ItemId(item), time, RawInteraction.DefaultBehaviour, CategoryId(_itemCategory[item])));
        }
    }

    /// <summary>A deterministic per-user seed (SplitMix64 finaliser); HashCode is randomised per process.</summary>
    internal static int MixSeed(int seed, int user, int stream)
    {
        var z = ((ulong)(uint)seed << 32) ^ (uint)user ^ ((ulong)(uint)stream << 48);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    private static double[] ZipfCdf(int n, double s)
    {
        var cdf = new double[n];
        double sum = 0;
        for (var r = 0; r < n; r++)
        {
            sum += 1.0 / Math.Pow(r + 1, s);
            cdf[r] = sum;
        }

        for (var r = 0; r < n; r++)
        {
            cdf[r] /= sum;
        }

        return cdf;
    }

    private static int Sample(double[] cdf, Random rng)
    {
        var idx = Array.BinarySearch(cdf, rng.NextDouble());
        return Math.Min(idx < 0 ? ~idx : idx, cdf.Length - 1);
    }

    private static void Shuffle(int[] values, Random rng)
    {
        for (var i = values.Length - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
