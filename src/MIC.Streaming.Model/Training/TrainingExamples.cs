using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Model.Training;

/// <summary>
/// Next-item examples from train sequences (ComiRec/YouTubeDNN style): for user u and position
/// t ≥ 1, the history is the up-to-maxLen items before t and the target is item t.
/// </summary>
public sealed class TrainingExamples
{
    public TrainingExamples(SequenceTable train)
    {
        ArgumentNullException.ThrowIfNull(train);
        Train = train;
        var users = new List<int>();
        var positions = new List<int>();
        for (var u = 0; u < train.UserCount; u++)
        {
            for (var t = 1; t < train.Length(u); t++)
            {
                users.Add(u);
                positions.Add(t);
            }
        }

        Users = [.. users];
        Positions = [.. positions];
    }

    public SequenceTable Train { get; }

    public int[] Users { get; }

    public int[] Positions { get; }

    public int Count => Users.Length;

    public ReadOnlyMemory<int> HistoryOf(int example, int maxLen)
    {
        var u = Users[example];
        var t = Positions[example];
        var start = Train.Offsets[u] + Math.Max(0, t - maxLen);
        return Train.Items.AsMemory(start, Train.Offsets[u] + t - start);
    }

    public int TargetOf(int example) => Train.Items[Train.Offsets[Users[example]] + Positions[example]];
}
