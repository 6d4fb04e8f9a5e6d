using System.Text.Json;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Training;

/// <summary>The counters of a run saved at an epoch boundary (the tensors travel beside it in the same <see cref="TensorFile"/>).</summary>
public sealed record TrainingResumeHeader
{
    /// <summary>The layout of the saved state; a state of another layout is refused.</summary>
    public int FormatVersion { get; init; } = CurrentFormat;

    public const int CurrentFormat = 1;

    /// <summary>The run's <see cref="TrainOptions"/> as JSON: a state saved under other options is refused.</summary>
    public required string Options { get; init; }

    /// <summary>Epochs finished (the next one to run is <c>Epoch + 1</c>).</summary>
    public int Epoch { get; init; }

    public long Step { get; init; }

    public long ExamplesSeen { get; init; }

    /// <summary>Training seconds spent before this state was saved, over every resumption.</summary>
    public double Seconds { get; init; }

    public double Best { get; init; }

    public int BestEpoch { get; init; }

    public int SinceBest { get; init; }

    /// <summary>Training has stopped (early stopping, the epoch cap or the step cap): a resume only restores the best epoch.</summary>
    public bool Done { get; init; }

    public long AdamSteps { get; init; }

    public double? UserSupportRecall { get; init; }

    public double? ItemSupportRecall { get; init; }

    /// <summary>The epochs after which earlier processes stopped and this run was resumed.</summary>
    public List<int> ResumedAfter { get; init; } = [];

    /// <summary>The caller's own state at this epoch (e.g. its per-epoch measurements), as it set it in <see cref="TrainingResume.CallerState"/>.</summary>
    public string? CallerState { get; init; }
}

/// <summary>
/// A resumable training run: <see cref="MicTrainer.Train(MIC.Streaming.Core.Splits.DatasetSplit, IProgress{TrainProgress}, TrainingResume, CancellationToken)"/> saves everything the run depends on to
/// <see cref="Path"/> after every epoch — weights, the best epoch's weights, Adam's moments, libtorch's
/// CPU generator, the support sets (banks, neighbours, clusters, generators) and the counters — and a
/// trainer given a saved state continues from it. The shuffle order is replayed from the seed, so on
/// CPU a run killed and resumed ends with the same weights as one that was never interrupted (the
/// tests compare them). On CUDA the device generator is not saved: dropout draws differ after a resume.
/// </summary>
public sealed class TrainingResume
{
    /// <summary>Opens <paramref name="path"/>: reads the header of a state saved there earlier, if any (not the tensors).</summary>
    public TrainingResume(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = path;
        Saved = File.Exists(path) ? TensorFile.ReadMeta<TrainingResumeHeader>(path) : null;
        CallerState = Saved?.CallerState;
    }

    public string Path { get; }

    /// <summary>The saved state's header when this was opened (null: the run starts from the beginning).</summary>
    public TrainingResumeHeader? Saved { get; }

    /// <summary>Saved with each epoch's state; starts as the saved state's (set it from the progress callback).</summary>
    public string? CallerState { get; set; }

    /// <summary>Removes the saved state (once the run's outcome is stored elsewhere).</summary>
    public void Delete()
    {
        File.Delete(Path);
        File.Delete(Path + ".tmp");
    }

    internal static string OptionsJson(TrainOptions options) => JsonSerializer.Serialize(options);

    /// <summary>Throws <see cref="InvalidDataException"/> (naming the file) when a saved state has another format or was trained under other options.</summary>
    public void EnsureMatches(TrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Saved is not null)
        {
            Check(Saved, options);
        }
    }

    /// <summary>Reads the saved tensors, checking the header they were saved with.</summary>
    internal (TrainingResumeHeader Header, Dictionary<string, Tensor> Tensors) Load(TrainOptions options)
    {
        var (header, tensors) = TensorFile.Read<TrainingResumeHeader>(Path);
        try
        {
            Check(header, options);
        }
        catch
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }

            throw;
        }

        return (header, tensors);
    }

    private void Check(TrainingResumeHeader header, TrainOptions options)
    {
        if (header.FormatVersion != TrainingResumeHeader.CurrentFormat)
        {
            throw new InvalidDataException($"{Path} holds a training state of format {header.FormatVersion}; this build reads format {TrainingResumeHeader.CurrentFormat}. Delete it to start this run again.");
        }

        var now = OptionsJson(options);
        if (header.Options != now)
        {
            throw new InvalidDataException($"{Path} was saved by a run with other options ({Differences(header.Options, now)}); delete it to start this run again.");
        }
    }

    /// <summary>"BatchSize saved 128, now 64; Mic.Lambda saved 0.7, now 0.3": the options two serialized <see cref="TrainOptions"/> disagree on.</summary>
    internal static string Differences(string savedJson, string nowJson)
    {
        var saved = new Dictionary<string, string?>(StringComparer.Ordinal);
        var now = new Dictionary<string, string?>(StringComparer.Ordinal);
        Flatten(System.Text.Json.Nodes.JsonNode.Parse(savedJson), "", saved);
        Flatten(System.Text.Json.Nodes.JsonNode.Parse(nowJson), "", now);
        return string.Join("; ", saved.Keys.Union(now.Keys).Order(StringComparer.Ordinal)
            .Where(k => saved.GetValueOrDefault(k) != now.GetValueOrDefault(k))
            .Select(k => $"{k} saved {saved.GetValueOrDefault(k) ?? "(none)"}, now {now.GetValueOrDefault(k) ?? "(none)"}"));
    }

    /// <summary>Leaf values of a JSON tree by dotted path.</summary>
    private static void Flatten(System.Text.Json.Nodes.JsonNode? node, string path, Dictionary<string, string?> into)
    {
        if (node is System.Text.Json.Nodes.JsonObject o)
        {
            foreach (var (name, child) in o)
            {
                Flatten(child, path.Length == 0 ? name : $"{path}.{name}", into);
            }
        }
        else
        {
            into[path] = node?.ToJsonString();
        }
    }
}
