using MIC.Streaming.Core.Data;
using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using TorchSharp;

namespace MIC.Streaming.Model.Tests;

[Collection("torch")]
public class ModelGrowthTests
{
    [Theory]
    [InlineData("dssm")]
    [InlineData("comirec-sa")]
    public void Grow_NewItems_KeepsEveryOldRowAndScore_AndAddsRows(string encoder)
    {
        // Given a model over the small dataset and the same dataset with 3 new items and a new category
        var options = ModelTestData.Options(encoder, MicVariant.Full);
        using var trainer = new MicTrainer(ModelTestData.SmallTables, options);
        var builder = new DatasetBuilder("grown");
        builder.SeedFrom(ModelTestData.Small);
        builder.Add("new-user", "new-item-1", 1, category: "new-category");
        builder.Add("new-user", "new-item-2", 2);
        builder.Add("new-user", "new-item-3", 3);
        var grownData = builder.Build();
        var grownTables = new FeatureTables(grownData);

        Assert.True(ModelGrowth.NeedsGrowth(ModelTestData.SmallTables, grownTables));
        Assert.False(ModelGrowth.NeedsGrowth(ModelTestData.SmallTables, new FeatureTables(ModelTestData.Small)));

        // When it grows
        using var grown = ModelGrowth.Grow(trainer.Model, grownTables);

        // Then old items keep their rows (same own-space vectors), the new ones exist
        trainer.Model.eval();
        grown.eval();
        var old = new ModelEmbeddings(trainer.Model, ModelTestData.SmallTables, options.EncoderOptions.MaxLen).Items().Own;
        var next = new ModelEmbeddings(grown, grownTables, options.EncoderOptions.MaxLen).Items().Own;
        Assert.Equal(ModelTestData.Small.ItemCount + 3, next.Rows);
        Assert.Equal(ModelTestData.Small.ItemCount, grownData.Items.TryGetIndex("new-item-1", out var row) ? row : -1);
        for (var i = 0; i < ModelTestData.Small.ItemCount; i++)
        {
            Assert.Equal(old.Row(i).ToArray(), next.Row(i).ToArray());
        }
    }
}
