using System.Text;
using MIC.Streaming.Core.Events;

namespace MIC.Streaming.Core.Tests;

public class Utf8StringCacheTests
{
    [Fact]
    public void Get_SameBytesTwice_ReturnsTheSameInstance()
    {
        var cache = new Utf8StringCache(1024);

        var first = cache.Get("item-42"u8);
        var second = cache.Get(Encoding.UTF8.GetBytes("item-42"));

        Assert.Equal("item-42", first);
        Assert.Same(first, second);
    }

    [Fact]
    public void Get_CollidingIds_EachGetsItsOwnText()
    {
        var cache = new Utf8StringCache(1); // every id lands in the one slot

        var a = cache.Get("a"u8);
        var b = cache.Get("b"u8);
        var a2 = cache.Get("a"u8);

        Assert.Equal("a", a);
        Assert.Equal("b", b);
        Assert.Equal("a", a2);
        Assert.NotSame(a, a2); // "b" replaced it: bounded, not a growing table
    }

    [Fact]
    public void Get_NonAsciiAndLongValues_DecodedCorrectly()
    {
        var cache = new Utf8StringCache(16);
        var accented = Encoding.UTF8.GetBytes("café-ü");
        var longId = Encoding.UTF8.GetBytes(new string('x', Utf8StringCache.MaxCachedLength + 1));

        Assert.Equal("café-ü", cache.Get(accented));
        Assert.Equal("café-ü", cache.Get(accented));
        Assert.Equal(new string('x', Utf8StringCache.MaxCachedLength + 1), cache.Get(longId));
        Assert.Equal(16, cache.Slots);
    }

    [Fact]
    public void TryParse_WithCache_SharesIdsAndKeepsTheirText()
    {
        var cache = new Utf8StringCache();
        Assert.True(ClickEventJson.TryParse("""{"eventId":"e1","userId":"u1","itemId":"i9","timestamp":1,"category":"c3","behaviour":"buy"}"""u8, out var one, out _, cache));
        Assert.True(ClickEventJson.TryParse("""{"eventId":"e2","userId":"u1","itemId":"i9","timestamp":2,"category":"c3","behaviour":"buy"}"""u8, out var two, out _, cache));
        Assert.True(ClickEventJson.TryParse("""{"eventId":"e3","userId":1007,"itemId":"\u0069\u0039","timestamp":3}"""u8, out var three, out _, cache));
        Assert.True(ClickEventJson.TryParse("""{"eventId":"e4","userId":1007,"itemId":-0,"timestamp":3}"""u8, out var four, out var reason, cache));

        Assert.True(ClickEventJson.TryParse("""{"eventId":"e5","userId":"u2","itemId":1007,"timestamp":4}"""u8, out var five, out _, cache));
        Assert.True(ClickEventJson.TryParse("""{"eventId":"e6","userId":"u3","itemId":1007,"timestamp":5}"""u8, out var six, out _, cache));

        Assert.Same(one!.ItemId, two!.ItemId);
        Assert.Same(five!.ItemId, six!.ItemId); // a numeric id's text is cached too
        Assert.Equal("1007", five.ItemId);
        Assert.Equal(one.UserId, two.UserId);
        Assert.Same(one.Category, two.Category);
        Assert.Same(one.Behaviour, two.Behaviour);
        Assert.NotSame(one.EventId, two.EventId);
        Assert.Equal("i9", three!.ItemId);   // escaped text is unescaped, not looked up by its raw bytes
        Assert.Equal("1007", three.UserId);
        Assert.Equal("0", four!.ItemId);     // a number's canonical text, not its raw "-0"
        Assert.Equal("1007", four.UserId);
        Assert.Equal(string.Empty, reason);
    }
}
