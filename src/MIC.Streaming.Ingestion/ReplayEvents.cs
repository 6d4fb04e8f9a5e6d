using System.Globalization;
using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Events;

namespace MIC.Streaming.Ingestion;

/// <summary>Turns a dataset into click events in time order (what <c>mic produce</c> and the demo replay).</summary>
public static class ReplayEvents
{
    /// <summary>
    /// Events of every user from position <paramref name="from"/>(user) on, merged by timestamp
    /// (ties: user order). Event ids are "{user}:{position}", so a replay of the same data is
    /// recognised as duplicates.
    /// </summary>
    public static IEnumerable<ClickEvent> FromDataset(InteractionDataset dataset, Func<int, int>? from = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var seqs = dataset.Sequences;
        var heap = new PriorityQueue<(int User, int Position), (long Time, int User)>();
        for (var u = 0; u < dataset.UserCount; u++)
        {
            var start = from?.Invoke(u) ?? 0;
            if (start < seqs.Length(u))
            {
                heap.Enqueue((u, start), (seqs.SequenceTimes(u)[start], u));
            }
        }

        while (heap.TryDequeue(out var next, out _))
        {
            var (u, pos) = next;
            var item = seqs.Sequence(u)[pos];
            var category = dataset.ItemCategory.Length > item && dataset.ItemCategory[item] >= 0 && dataset.Categories.Count > 0
                ? dataset.Categories.GetRaw(dataset.ItemCategory[item])
                : null;
            var userId = dataset.Users.GetRaw(u);
            yield return new ClickEvent(
                string.Create(CultureInfo.InvariantCulture, $"{userId}:{pos}"),
                userId,
                dataset.Items.GetRaw(item),
                Math.Max(0, seqs.SequenceTimes(u)[pos]),
                Category: category);
            if (pos + 1 < seqs.Length(u))
            {
                heap.Enqueue((u, pos + 1), (seqs.SequenceTimes(u)[pos + 1], u));
            }
        }
    }
}
