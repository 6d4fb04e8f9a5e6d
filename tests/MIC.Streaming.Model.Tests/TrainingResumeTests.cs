using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using MIC.Streaming.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Tests;

[Collection("torch")]
public class TrainingResumeTests
{
    /// <summary>Every piece that carries state between epochs: dropout and masks (libtorch's generator), Adam, both same-side banks with clusters and hard negatives, the cross bank, refreshes that do not fall on epoch boundaries.</summary>
    private static TrainOptions Options(string encoder)
    {
        var options = ModelTestData.Options(encoder, MicVariant.Full) with { MaxEpochs = 3, Patience = 0 };
        return options with
        {
            Mic = options.Mic with { SupportWarmupSteps = 2, SupportRefreshSteps = 3, SupportClusters = 4, HardNegatives = 2, CrossPositives = true },
        };
    }

    [Theory]
    [InlineData("dssm")]
    [InlineData("comirec-sa")]
    public void A_Run_Stopped_After_An_Epoch_And_Resumed_Ends_With_The_Weights_Of_One_That_Ran_Through(string encoder)
    {
        using var dir = new TempDir();
        var split = ModelTestData.SmallSplit;
        var options = Options(encoder);

        TrainResult through;
        Dictionary<string, float[]> expected;
        using (var trainer = new MicTrainer(ModelTestData.SmallTables, options))
        {
            through = trainer.Train(split, null, new TrainingResume(Path.Combine(dir.Path, "through.state")));
            expected = Snapshot(trainer.Model);
        }

        // The "killed" process: stops at the first step of epoch 3, after epoch 2 was saved.
        var path = Path.Combine(dir.Path, "stopped.state");
        using (var cts = new CancellationTokenSource())
        using (var trainer = new MicTrainer(ModelTestData.SmallTables, options))
        {
            var progress = new ProgressSink(p =>
            {
                if (p.ValidRecall50 is not null && p.Epoch == 2)
                {
                    cts.Cancel();
                }
            });
            Assert.Throws<OperationCanceledException>(() => trainer.Train(split, progress, new TrainingResume(path), cts.Token));
        }

        var resume = new TrainingResume(path);
        Assert.Equal(2, resume.Saved!.Epoch);
        Assert.False(resume.Saved.Done);
        torch.manual_seed(12345); // another process: libtorch's generator is wherever it happens to be
        using (var trainer = new MicTrainer(ModelTestData.SmallTables, options))
        {
            var messages = new List<string>();
            var resumed = trainer.Train(split, new ProgressSink(p => messages.Add(p.Message ?? "")), resume);
            Assert.Contains(messages, m => m.StartsWith("resumed after epoch 2", StringComparison.Ordinal));
            Assert.Equal([2], resumed.ResumedAfter!);
            Assert.Equal((through.Epochs, through.Steps, through.BestEpoch), (resumed.Epochs, resumed.Steps, resumed.BestEpoch));
            Assert.Equal(through.BestValidRecall50, resumed.BestValidRecall50, 12); // the evaluation's parallel mean may sum in another order
            AssertSameWeights(expected, Snapshot(trainer.Model));
        }

        // A finished run's state restores its best weights without training again.
        var finished = new TrainingResume(path);
        Assert.True(finished.Saved!.Done);
        using (var trainer = new MicTrainer(ModelTestData.SmallTables, options))
        {
            var again = trainer.Train(split, null, finished);
            Assert.Equal(through.Steps, trainer.Step);
            Assert.Equal([2, 3], again.ResumedAfter!);
            AssertSameWeights(expected, Snapshot(trainer.Model));
        }

        finished.Delete();
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void A_State_Saved_Under_Other_Options_Is_Refused_Naming_The_File()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "run.state");
        var options = ModelTestData.Options("dssm", MicVariant.Full) with { MaxSteps = 2 };
        using (var trainer = new MicTrainer(ModelTestData.SmallTables, options))
        {
            trainer.Train(ModelTestData.SmallSplit, null, new TrainingResume(path));
        }

        using var other = new MicTrainer(ModelTestData.SmallTables, options with { LearningRate = 0.01 });
        var error = Assert.Throws<InvalidDataException>(() => other.Train(ModelTestData.SmallSplit, null, new TrainingResume(path)));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("other options (LearningRate saved 0.001, now 0.01)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_State_Of_Another_Format_Is_Refused_Naming_The_File()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "future.state");
        var options = ModelTestData.Options("dssm", MicVariant.Base);
        TensorFile.Write(path, new TrainingResumeHeader { FormatVersion = 2, Options = System.Text.Json.JsonSerializer.Serialize(options) }, []);

        var error = Assert.Throws<InvalidDataException>(() => new TrainingResume(path).EnsureMatches(options));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("format 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TensorFile_RoundTrips_Tensors_And_Rejects_A_Truncated_File()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "t.bin");
        using var a = torch.arange(12, dtype: ScalarType.Float32).reshape(3, 4);
        using var b = torch.tensor(new long[] { 5, -7 });
        using var empty = torch.zeros(0, 3);
        TensorFile.Write(path, new { Note = "x" }, [new("a", a), new("b", b), new("empty", empty)]);

        var (meta, tensors) = TensorFile.Read<Dictionary<string, string>>(path);
        Assert.Equal("x", meta["Note"]);
        Assert.Equal(a.data<float>().ToArray(), tensors["a"].data<float>().ToArray());
        Assert.Equal([3L, 4L], tensors["a"].shape);
        Assert.Equal([5L, -7L], tensors["b"].data<long>().ToArray());
        Assert.Equal([0L, 3L], tensors["empty"].shape);
        foreach (var t in tensors.Values)
        {
            t.Dispose();
        }

        // Copied in chunks (spans stop at 2 GiB): 48 bytes through 20-byte chunks round-trip too.
        TensorFile.Write(path, new { Note = "chunks" }, [new("a", a)], chunkBytes: 20);
        var (_, chunked) = TensorFile.Read<Dictionary<string, string>>(path, chunkBytes: 20);
        Assert.Equal(a.data<float>().ToArray(), chunked["a"].data<float>().ToArray());
        chunked["a"].Dispose();

        TensorFile.Write(path, new { Note = "x" }, [new("a", a), new("b", b), new("empty", empty)]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^8]);
        Assert.ThrowsAny<IOException>(() => TensorFile.Read<Dictionary<string, string>>(path));
        File.WriteAllBytes(path, "not a tensor file"u8.ToArray());
        var error = Assert.Throws<InvalidDataException>(() => TensorFile.ReadMeta<Dictionary<string, string>>(path));
        Assert.Contains("is not a tensor file", error.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, float[]> Snapshot(MicModel model) =>
        model.state_dict().Where(p => p.Value.dtype == ScalarType.Float32).ToDictionary(p => p.Key, p => p.Value.detach().cpu().data<float>().ToArray());

    private static void AssertSameWeights(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, values) in expected)
        {
            Assert.True(values.AsSpan().SequenceEqual(actual[name]), $"{name} differs after resuming");
        }
    }
}
