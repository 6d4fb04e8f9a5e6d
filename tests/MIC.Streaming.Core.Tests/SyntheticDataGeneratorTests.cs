using MIC.Streaming.Core.Synthetic;

namespace MIC.Streaming.Core.Tests;

public class SyntheticDataGeneratorTests
{
    [Fact]
    public void Generate_SameSeed_SameStream()
    {
        var options = new SyntheticOptions { Users = 100, Items = 80, Categories = 5 };

        var a = new SyntheticDataGenerator(options).Generate();
        var b = new SyntheticDataGenerator(options).Generate();

        Assert.Equal(a, b);
    }

    [Fact]
    public void Generate_EventsInTimeOrder_MostClicksInUserInterests()
    {
        var options = new SyntheticOptions { Users = 300, Items = 400, Categories = 10, DriftProbability = 0 };
        var g = new SyntheticDataGenerator(options);

        var events = g.Generate();

        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Timestamp <= p.Second.Timestamp));
        var primaryShare = events.Count(e => e.Category == SyntheticDataGenerator.CategoryId(g.PrimaryInterest(int.Parse(e.UserId[1..], System.Globalization.CultureInfo.InvariantCulture)))) / (double)events.Count;
        Assert.InRange(primaryShare, 0.3, 0.7); // ≈ 0.85 / 2 interests + noise; a uniform world would give 0.1
    }

    [Fact]
    public void Generate_PopularitySkewed()
    {
        var g = new SyntheticDataGenerator(new SyntheticOptions { Users = 500, Items = 500, Categories = 5 });

        var counts = g.Generate().GroupBy(e => e.ItemId).Select(x => x.Count()).OrderDescending().ToArray();

        var top10Share = counts.Take(counts.Length / 10).Sum() / (double)counts.Sum();
        Assert.True(top10Share > 0.25, $"top 10% items hold {top10Share:P1}");
    }
}
