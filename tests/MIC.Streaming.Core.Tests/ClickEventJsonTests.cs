using MIC.Streaming.Core.Events;

namespace MIC.Streaming.Core.Tests;

public class ClickEventJsonTests
{
    private static (bool Ok, ClickEvent? Event, string Reason) Parse(string json)
    {
        var ok = ClickEventJson.TryParse(ClickEventJson.Utf8(json), out var evt, out var reason);
        return (ok, evt, reason);
    }

    [Fact]
    public void TryParse_ValidEvent_AllFields()
    {
        var (ok, evt, _) = Parse("""{"eventId":"e1","userId":"u1","itemId":"i9","timestamp":1700000000,"behaviour":"buy","category":"c3","fields":{"segment":"s1"},"extra":[1,2]}""");

        Assert.True(ok);
        Assert.Equal(new ClickEvent("e1", "u1", "i9", 1700000000, "buy", "c3", evt!.Fields), evt);
        Assert.Equal("s1", evt.Fields!["segment"]);
    }

    [Fact]
    public void TryParse_NumericIdsAndIsoTime_Accepted()
    {
        var (ok, evt, _) = Parse("""{"eventId":"e","userId":42,"itemId":7,"timestamp":"2023-11-14T22:13:20Z"}""");

        Assert.True(ok);
        Assert.Equal("42", evt!.UserId);
        Assert.Equal(1700000000, evt.Timestamp);
        Assert.Equal("click", evt.Behaviour);
    }

    [Fact]
    public void Serialize_ThenParse_RoundTrips()
    {
        var original = new ClickEvent("e", "u", "i", 5, "pv", "c", new Dictionary<string, string> { ["a"] = "b" });

        Assert.True(ClickEventJson.TryParse(ClickEventJson.Serialize(original), out var back, out _));
        Assert.Equal(original.UserId, back!.UserId);
        Assert.Equal("b", back.Fields!["a"]);
    }

    [Theory]
    [InlineData("", "empty_payload")]
    [InlineData("not json", "bad_json")]
    [InlineData("[1,2]", "bad_json")]
    [InlineData("{\"eventId\":\"e\",\"userId\":\"u\",\"itemId\":\"i\"", "bad_json")]
    [InlineData("""{"userId":"u","itemId":"i","timestamp":1}""", "missing_field: eventId")]
    [InlineData("""{"eventId":"e","itemId":"i","timestamp":1}""", "missing_field: userId")]
    [InlineData("""{"eventId":"e","userId":"u","timestamp":1}""", "missing_field: itemId")]
    [InlineData("""{"eventId":"e","userId":"u","itemId":"i"}""", "missing_field: timestamp")]
    [InlineData("""{"eventId":"e","userId":true,"itemId":"i","timestamp":1}""", "wrong_type: userId")]
    [InlineData("""{"eventId":"e","userId":"u","itemId":{"x":1},"timestamp":1}""", "wrong_type: itemId")]
    [InlineData("""{"eventId":"e","userId":-5,"itemId":"i","timestamp":1}""", "negative_id: userId")]
    [InlineData("""{"eventId":"e","userId":"u","itemId":99999999999999999999999,"timestamp":1}""", "id_overflow: itemId")]
    [InlineData("""{"eventId":"e","userId":1.5,"itemId":"i","timestamp":1}""", "wrong_type: userId")]
    [InlineData("""{"eventId":"e","userId":"  ","itemId":"i","timestamp":1}""", "empty_field: userId")]
    [InlineData("""{"eventId":"e","userId":"u","itemId":"i","timestamp":-1}""", "bad_timestamp")]
    [InlineData("""{"eventId":"e","userId":"u","itemId":"i","timestamp":"yesterday"}""", "wrong_type: timestamp")]
    [InlineData("""{"eventId":"e","userId":"u","itemId":"i","timestamp":1,"fields":[1]}""", "wrong_type: fields")]
    [InlineData("""{"eventId":"e","userId":"u","itemId":"i","timestamp":1,"fields":{"a":1}}""", "wrong_type: fields.a")]
    public void TryParse_Malformed_ReturnsReason(string json, string expectedReason)
    {
        var (ok, evt, reason) = Parse(json);

        Assert.False(ok);
        Assert.Null(evt);
        Assert.StartsWith(expectedReason, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_HugePayloadOrLongId_Rejected()
    {
        var huge = $$"""{"eventId":"e","userId":"u","itemId":"i","timestamp":1,"pad":"{{new string('x', 70_000)}}"}""";
        var longId = $$"""{"eventId":"e","userId":"{{new string('u', 300)}}","itemId":"i","timestamp":1}""";

        Assert.StartsWith("too_large", Parse(huge).Reason, StringComparison.Ordinal);
        Assert.StartsWith("too_long: userId", Parse(longId).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_TenThousandRandomCorruptions_NeverThrow()
    {
        var valid = ClickEventJson.Serialize(new ClickEvent("e", "u1", "i2", 100, "click", "c", new Dictionary<string, string> { ["k"] = "v" }));
        var rng = new Random(5);
        var rejected = 0;
        for (var i = 0; i < 10_000; i++)
        {
            var bytes = (byte[])valid.Clone();
            var edits = 1 + rng.Next(4);
            for (var e = 0; e < edits; e++)
            {
                bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            }

            var cut = rng.Next(3) == 0 ? bytes[..rng.Next(bytes.Length)] : bytes;
            if (!ClickEventJson.TryParse(cut, out _, out var reason))
            {
                Assert.False(string.IsNullOrEmpty(reason));
                rejected++;
            }
        }

        Assert.True(rejected > 5_000, $"only {rejected} of 10,000 corruptions were rejected");
    }
}
