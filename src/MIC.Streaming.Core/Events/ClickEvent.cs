namespace MIC.Streaming.Core.Events;

/// <summary>
/// One click/interaction as producers publish it (Kafka value, or POST /v1/events). JSON, UTF-8:
/// <code>
/// {
///   "eventId":   "7f0c…",            // required, 1–128 chars; duplicates are the producer's retry
///   "userId":    "u42",              // required, string (1–256 chars) or non-negative integer
///   "itemId":    "i9001",            // required, same rules as userId
///   "timestamp": 1700000000,         // required, Unix seconds (integer ≥ 0) or ISO-8601 string
///   "behaviour": "click",            // optional, 1–32 chars (default "click")
///   "category":  "c7",               // optional item category, ≤ 256 chars
///   "fields":    { "segment": "s1" } // optional string → string, ≤ 32 entries, each ≤ 256 chars
/// }
/// </code>
/// Records are keyed by userId, so one user's events stay ordered in one partition. Unknown
/// properties are ignored (forward compatible); a payload over 64 KiB is rejected.
/// </summary>
public sealed record ClickEvent(
    string EventId,
    string UserId,
    string ItemId,
    long Timestamp,
    string Behaviour = ClickEvent.DefaultBehaviour,
    string? Category = null,
    IReadOnlyDictionary<string, string>? Fields = null)
{
    public const string DefaultBehaviour = "click";
    public const int MaxPayloadBytes = 64 * 1024;
    public const int MaxIdLength = 256;
    public const int MaxEventIdLength = 128;
    public const int MaxFields = 32;
}
