using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Splits;

/// <summary>
/// A train/valid/test split in the dataset's own id space: <see cref="Train"/> has one (possibly
/// empty) sequence per dataset user; evaluation users carry their visible history and targets.
/// </summary>
public sealed record DatasetSplit(
    string Protocol,
    InteractionDataset Dataset,
    SequenceTable Train,
    IReadOnlyList<EvalCase> Valid,
    IReadOnlyList<EvalCase> Test,
    int DroppedEvalUsers)
{
    public int TrainUserCount => Enumerable.Range(0, Train.UserCount).Count(u => Train.Length(u) > 0);
}
