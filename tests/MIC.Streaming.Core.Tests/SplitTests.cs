using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Core.Synthetic;

namespace MIC.Streaming.Core.Tests;

public class SplitTests
{
    private static readonly InteractionDataset Data =
        new SyntheticDataGenerator(new SyntheticOptions { Users = 500, Items = 300, Categories = 6, Seed = 7 }).BuildDataset();

    [Fact]
    public void ComiRec_SameSeed_SameSplit_OtherSeed_Differs()
    {
        var a = ComiRecSplitter.Split(Data, seed: 1, maxLen: 20);
        var b = ComiRecSplitter.Split(Data, seed: 1, maxLen: 20);
        var c = ComiRecSplitter.Split(Data, seed: 2, maxLen: 20);

        Assert.Equal(a.Test.Select(t => t.User), b.Test.Select(t => t.User));
        Assert.Equal(a.Train.Items, b.Train.Items);
        Assert.NotEqual(a.Test.Select(t => t.User), c.Test.Select(t => t.User));
    }

    [Fact]
    public void ComiRec_EvalUsers_ContributeNothingToTrain()
    {
        var s = ComiRecSplitter.Split(Data, seed: 3, maxLen: 20);

        foreach (var c in s.Test.Concat(s.Valid))
        {
            Assert.Equal(0, s.Train.Length(c.User));
        }

        Assert.Empty(s.Test.Select(t => t.User).Intersect(s.Valid.Select(v => v.User)));
        Assert.Equal(Data.UserCount, s.TrainUserCount + s.Valid.Count + s.Test.Count + s.DroppedEvalUsers);
        Assert.InRange(s.TrainUserCount, 399, 401);
    }

    [Fact]
    public void ComiRec_HistoryIsFirst80PercentTruncated_TargetsAreTheRest()
    {
        var s = ComiRecSplitter.Split(Data, seed: 3, maxLen: 4);

        foreach (var c in s.Test)
        {
            var seq = Data.Sequences.Sequence(c.User).ToArray();
            var k = (int)(seq.Length * 0.8);
            Assert.Equal(seq[Math.Max(0, k - 4)..k], c.History);
            Assert.Equal(seq[k..], c.Targets);
            Assert.True(c.History.Length <= 4);
        }
    }

    [Fact]
    public void LeaveLastOut_LastIsTestSecondLastIsValid_TrainExcludesBoth()
    {
        var s = LeaveLastOutSplitter.Split(Data, maxLen: 50);

        foreach (var c in s.Test)
        {
            var seq = Data.Sequences.Sequence(c.User).ToArray();
            Assert.Equal([seq[^1]], c.Targets);
            Assert.Equal(seq[..^1].TakeLast(50), c.History);
            Assert.Equal(seq[..^2], s.Train.Sequence(c.User).ToArray());
        }

        Assert.Equal(s.Test.Count, s.Valid.Count);
    }
}
