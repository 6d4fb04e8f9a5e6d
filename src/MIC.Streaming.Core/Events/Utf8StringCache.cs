using System.Text;

namespace MIC.Streaming.Core.Events;

/// <summary>
/// A bounded, direct-mapped cache from the UTF-8 bytes of short ASCII identifiers (item ids,
/// categories) to one shared <see cref="string"/>. The ingestion path parses the same ids over and
/// over; sharing one string per id means a repeated id allocates nothing, and the copies grain state
/// keeps (a user's last N items) point at one string instead of one per event, which is less for
/// the GC to copy when the state is promoted. A colliding id replaces the slot's entry, so memory is
/// bounded by the slot count; races between threads only cost a miss. Not <see cref="string.Intern"/>:
/// that table never shrinks.
/// </summary>
public sealed class Utf8StringCache
{
    /// <summary>Longer values are not cached (ids are short; a long value is unlikely to repeat).</summary>
    public const int MaxCachedLength = 64;

    private readonly string?[] _slots;
    private readonly int _mask;

    /// <param name="slots">Rounded up to a power of two.</param>
    public Utf8StringCache(int slots = 1 << 16)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        var size = (int)Math.Min(1u << 30, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)slots));
        _slots = new string?[size];
        _mask = size - 1;
    }

    public int Slots => _slots.Length;

    /// <summary>The string of <paramref name="utf8"/>: the cached one when these bytes were seen last in its slot.</summary>
    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxCachedLength)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        var hash = new HashCode();
        hash.AddBytes(utf8);
        ref var slot = ref _slots[hash.ToHashCode() & _mask];
        var cached = slot;
        if (cached is not null && Ascii.Equals(utf8, cached))
        {
            return cached;
        }

        var value = Encoding.UTF8.GetString(utf8);
        if (Ascii.IsValid(utf8))
        {
            slot = value; // non-ASCII ids are not cached: Ascii.Equals could never match them
        }

        return value;
    }
}
