using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Evaluation;
using MIC.Streaming.Core.Splits;
using MIC.Streaming.Core.Synthetic;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using MIC.Streaming.Retrieval.Channels;
using TorchSharp;

namespace MIC.Streaming.Model.Tests;

[CollectionDefinition("torch", DisableParallelization = true)]
public class TorchTestGroup
{
}

[Collection("torch")]
public class TrainerTests
{
    [Fact]
    public void TrainStep_DoesNotLeakTensorsAcrossSteps()
    {
        using var trainer = new MicTrainer(ModelTestData.SmallTables, ModelTestData.Options("dssm", MicVariant.Full));
        var split = ModelTestData.SmallSplit;
        var examples = new TrainingExamples(split.Train);
        trainer.RefreshSupportSets(split.Train);
        int[] batch = [.. Enumerable.Range(0, 64)];
        trainer.TrainStep(examples, batch, report: true); // warm-up: optimizer state is allocated once

        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 5; i++)
        {
            trainer.TrainStep(examples, batch, report: i % 2 == 0);
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void SupportSet_IsFirstBuiltAfterTheWarmUp_AndReportsItsRecall()
    {
        foreach (var warmup in new[] { 0, 3 })
        {
            var options = ModelTestData.Options("dssm", MicVariant.Full) with { MaxSteps = 2 };
            options = options with { Mic = options.Mic with { SupportWarmupSteps = warmup } };
            using var trainer = new MicTrainer(ModelTestData.SmallTables, options);
            var messages = new List<string>();
            trainer.Train(ModelTestData.SmallSplit, new ProgressSink(p => messages.Add(p.Message ?? string.Empty)));
            Assert.Equal(2, trainer.Step);
            if (warmup == 0)
            {
                Assert.Equal("users 1.00, items 1.00", trainer.SupportRecall); // small banks: exact neighbours
                Assert.Contains(messages, m => m.StartsWith("support set built at step 0", StringComparison.Ordinal));
            }
            else
            {
                Assert.Null(trainer.SupportRecall); // not built during the 2 steps of warm-up
            }
        }
    }

    [Fact]
    public void Checkpoint_RoundTrip_GivesIdenticalScores()
    {
        using var dir = new TempDir();
        using var trainer = new MicTrainer(ModelTestData.SmallTables, ModelTestData.Options("comirec-sa", MicVariant.Full) with { MaxSteps = 3 });
        var split = ModelTestData.SmallSplit;
        trainer.Train(split);
        var histories = split.Test.Take(5).Select(c => (ReadOnlyMemory<int>)c.History).ToArray();
        var users = split.Test.Take(5).Select(c => c.User).ToArray();
        var before = trainer.Embeddings.Encode(histories, users);
        var (itemsBefore, _) = trainer.Embeddings.Items();

        Checkpoint.Save(dir.Path, trainer.Model, ModelTestData.Small, new CheckpointManifest { Options = ModelTestData.Options("comirec-sa", MicVariant.Full), Dataset = "small", Protocol = "comirec" });
        var (model, tables, _, manifest) = Checkpoint.Load(dir.Path);
        using (model)
        {
            var loaded = new ModelEmbeddings(model, tables, manifest.Options.EncoderOptions.MaxLen);
            var after = loaded.Encode(histories, users);
            var (itemsAfter, _) = loaded.Items();

            Assert.Equal(itemsBefore.Data, itemsAfter.Data);
            for (var i = 0; i < before.Length; i++)
            {
                Assert.Equal(before[i].RelevanceInterests.SelectMany(v => v), after[i].RelevanceInterests.SelectMany(v => v));
            }
        }
    }

    [Fact]
    public void Checkpoint_MissingManifest_ClearError()
    {
        using var dir = new TempDir();

        var e = Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(dir.Path));

        Assert.Contains("manifest.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShortRun_OnPlantedSyntheticData_BeatsMostPop()
    {
        var data = new SyntheticDataGenerator(new SyntheticOptions { Users = 1500, Items = 600, Categories = 12, Seed = 21 }).BuildDataset();
        var split = ComiRecSplitter.Split(data, seed: 2, maxLen: 20);
        var options = ModelTestData.Options("dssm", MicVariant.Full, dim: 32) with { BatchSize = 256, MaxEpochs = 4, Patience = 0, EncoderOptions = new() { Dimension = 32, Hidden = 64, MaxLen = 20 } };
        using var trainer = new MicTrainer(new FeatureTables(data), options);

        trainer.Train(split);
        var model = ChannelEvaluation.EvaluateSplit(trainer.Embeddings, split, "dssm+MIC", [("U2I", ChannelSet.U2I)], new ChannelOptions())[0];
        var pop = Evaluator.Evaluate(new MostPop(), split);

        Assert.True(model.Metrics["Recall@50"] > 1.2 * pop.Metrics["Recall@50"], $"DSSM+MIC R@50 {model.Metrics["Recall@50"]:F4} vs MostPop {pop.Metrics["Recall@50"]:F4}");
    }
}
