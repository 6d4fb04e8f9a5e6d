using MIC.Streaming.Core.Data;
using MIC.Streaming.Model;
using MIC.Streaming.Retrieval.Channels;

namespace MIC.Streaming.Grains.Serving;

/// <summary>
/// Everything one model version serves with: the user tower and the indexes built from the same
/// weights, the id vocabularies that map live (external) ids to model rows, and the popularity
/// list for cold start. Travels as the payload of its <c>IndexSnapshot</c>, so a query can never
/// pair a new tower with old indexes; disposed when the last query on it ends.
/// </summary>
public sealed class ServingVersion : IDisposable
{
    internal ServingVersion(ModelVersionInfo info, MicModel model, ModelEmbeddings tower, InteractionDataset dataset, RetrievalSpaces? spaces, int maxHistory)
    {
        Info = info;
        Model = model;
        Tower = tower;
        Items = dataset.Items;
        Users = dataset.Users;
        Spaces = spaces;
        MaxHistory = maxHistory;
        Popular = PopularItems(dataset, 1000);
    }

    public ModelVersionInfo Info { get; }

    internal MicModel Model { get; }

    public ModelEmbeddings Tower { get; }

    public IdVocabulary Items { get; }

    public IdVocabulary Users { get; }

    /// <summary>The indexes; owned by the catalog snapshot, not by this object. Null when the version is served sharded.</summary>
    public RetrievalSpaces? Spaces { get; }

    /// <summary>Sharded serving: how many index shards the version was written as (0 = replicated, indexes in <see cref="Spaces"/>).</summary>
    public int Shards { get; init; }

    /// <summary>How many recent items the user tower reads.</summary>
    public int MaxHistory { get; }

    /// <summary>Item rows by training-set popularity, most popular first.</summary>
    public int[] Popular { get; }

    public void Dispose() => Model.Dispose();

    private static int[] PopularItems(InteractionDataset dataset, int n)
    {
        var counts = new int[dataset.ItemCount];
        foreach (var item in dataset.Sequences.Items)
        {
            counts[item]++;
        }

        return [.. Enumerable.Range(0, counts.Length).OrderByDescending(i => counts[i]).ThenBy(i => i).Take(n)];
    }
}
