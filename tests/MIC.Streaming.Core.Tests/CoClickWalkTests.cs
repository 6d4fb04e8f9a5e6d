using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Synthetic;

namespace MIC.Streaming.Core.Tests;

public class CoClickWalkTests
{
    private static readonly string[] FirstChain = ["a", "b", "c"];

    [Fact]
    public void Next_FollowsRecordedTransitions_WithUniqueIdsAndIncreasingTime()
    {
        // Given two cycles a→b→c→a and x→y→z→x, and a user whose history ends in the first chain
        var builder = new DatasetBuilder("chains");
        foreach (var (user, items) in new[] { ("u1", "a b c a"), ("u2", "x y z x"), ("u3", "a b"), ("u4", "x y") })
        {
            var t = 0;
            foreach (var item in items.Split(' '))
            {
                builder.Add(user, item, t++);
            }
        }

        var dataset = builder.Build();
        dataset.Users.TryGetIndex("u3", out var u3);
        var walk = new CoClickWalk(dataset, [u3], seed: 1, follow: 1.0);

        // When it generates clicks
        var events = Enumerable.Range(0, 50).Select(_ => walk.Next()).ToList();

        // Then every click continues u3's chain (never jumps to x, y, z), ids are unique and time increases
        Assert.All(events, e => Assert.Equal("u3", e.UserId));
        Assert.All(events, e => Assert.Contains(e.ItemId, FirstChain));
        Assert.Equal(events.Count, events.Select(e => e.EventId).Distinct().Count());
        Assert.True(events.Zip(events.Skip(1)).All(p => p.Second.Timestamp > p.First.Timestamp));
        Assert.True(events[0].Timestamp > 2);
    }
}
