using MIC.Streaming.Model.Encoders;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Training;

/// <summary>Turns histories (dense item ids, oldest first) into right-aligned <see cref="UserBatch"/> tensors.</summary>
public static class UserBatchBuilder
{
    /// <summary>
    /// histories[i] is user i's history (only its last <paramref name="maxLen"/> items are used);
    /// users[i] is the dense user index for user fields, or -1 when unknown (fields become 0).
    /// Item ids ≥ the model's item count are treated as padding (unknown to this model).
    /// </summary>
    public static UserBatch Build(IReadOnlyList<ReadOnlyMemory<int>> histories, IReadOnlyList<int> users, FeatureTables tables, int maxLen, Device device)
    {
        ArgumentNullException.ThrowIfNull(histories);
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(tables);
        var b = histories.Count;
        var tokens = new long[b * maxLen];
        var mask = new float[b * maxLen];
        var fieldCount = tables.UserFieldCount;
        var fields = new long[b * fieldCount];
        for (var i = 0; i < b; i++)
        {
            var h = histories[i].Span;
            var take = Math.Min(h.Length, maxLen);
            var src = h[(h.Length - take)..];
            var offset = (i * maxLen) + (maxLen - take);
            for (var p = 0; p < take; p++)
            {
                var item = src[p];
                if ((uint)item < (uint)tables.ItemCount)
                {
                    tokens[offset + p] = item + 1;
                    mask[offset + p] = 1f;
                }
            }

            CopyUserFields(tables, users[i], fields.AsSpan(i * fieldCount, fieldCount));
        }

        return new UserBatch(
            tensor(tokens, [b, maxLen], device: device),
            tensor(mask, [b, maxLen], device: device),
            tensor(fields, [b, fieldCount], device: device));
    }

    /// <summary>
    /// The user's field tokens into <paramref name="destination"/> (one per user field), or all 0 for
    /// an unknown user (−1) or one past the tables; an empty destination (an encoder without user fields) is left as is.
    /// </summary>
    public static void CopyUserFields(FeatureTables tables, int user, Span<long> destination)
    {
        ArgumentNullException.ThrowIfNull(tables);
        var fieldCount = destination.Length;
        if (fieldCount == 0)
        {
            return;
        }

        if (user >= 0 && (user * fieldCount) < tables.UserFieldTokens.Length)
        {
            tables.UserFieldTokens.AsSpan(user * fieldCount, fieldCount).CopyTo(destination);
        }
        else
        {
            destination.Clear();
        }
    }
}
