using MIC.Streaming.Core.Data;
using MIC.Streaming.Faiss;
using MIC.Streaming.Model;
using MIC.Streaming.Model.Training;

namespace MIC.Streaming.Grains.Serving;

/// <summary>
/// Publishes a trained model: exports item and user representations, builds the version's
/// indexes aside, writes checkpoint + indexes to the model store, then registers the version so
/// every silo's <see cref="ModelVersionWatcher"/> swaps to it.
/// </summary>
public static class ModelPublisher
{
    public static async Task<ModelVersionInfo> PublishAsync(
        IGrainFactory grains,
        string storeRoot,
        MicModel model,
        InteractionDataset dataset,
        SequenceTable userHistories,
        CheckpointManifest manifest,
        IndexBuildOptions indexOptions,
        string description,
        TimeProvider time,
        int shards = 0)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(manifest);
        var registry = grains.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey);
        var current = await registry.GetCurrentAsync();
        var version = ModelStore.NextVersion(storeRoot, current);
        var info = await Task.Run(() => Write(storeRoot, version, model, dataset, userHistories, manifest, indexOptions, description, time, shards: shards));
        return await registry.PublishAsync(info);
    }

    /// <summary>The synchronous part: representations, indexes, files (no grain calls).</summary>
    public static ModelVersionInfo Write(
        string storeRoot, long version, MicModel model, InteractionDataset dataset, SequenceTable userHistories, CheckpointManifest manifest, IndexBuildOptions indexOptions, string description, TimeProvider time,
        Action<string>? writeTrainerState = null, int shards = 0)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var embeddings = new ModelEmbeddings(model, new FeatureTables(dataset), manifest.Options.EncoderOptions.MaxLen);
        var (own, relevance) = embeddings.Items();
        var users = embeddings.Users(userHistories);
        var (spaces, _) = SpacesBuilder.Build(relevance, own, users, userHistories, shards > 0 && indexOptions.ItemNeighbours == 0 ? indexOptions with { ItemNeighbours = 50 } : indexOptions);
        using (spaces)
        {
            return ModelStore.Write(storeRoot, version, model, dataset, manifest, spaces, description, time, writeTrainerState, shards, indexOptions);
        }
    }
}
