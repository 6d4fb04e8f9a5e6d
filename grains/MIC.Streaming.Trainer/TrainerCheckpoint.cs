using System.Text.Json;

namespace MIC.Streaming.Trainer;

/// <summary>The trainer's counters and stream position at a publish.</summary>
public sealed record TrainerProgress
{
    /// <summary>Next offset to read per partition: every record below it is in this version's catalog and window.</summary>
    public Dictionary<int, long> Positions { get; init; } = [];

    public long EventsSeen { get; init; }

    public long EventsTrained { get; init; }

    public long Skipped { get; init; }

    public int Updates { get; init; }

    /// <summary>The version the frozen baseline is (the first one this trainer lineage started from).</summary>
    public long FrozenVersion { get; init; }
}

/// <summary>
/// The trainer's state, saved inside each published version (<c>{version}/trainer/</c>) so the
/// weights, the stream position and the replay window move together: <c>progress.json</c> and
/// <c>window.bin</c>. A trainer that takes over loads the registry's current version and reads the
/// stream from exactly these positions, so no record is skipped or counted twice.
/// </summary>
public static class TrainerCheckpoint
{
    public const string ProgressFile = "progress.json";
    public const string WindowFile = "window.bin";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static void Save(string directory, TrainerProgress progress, ReplayWindow window)
    {
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentNullException.ThrowIfNull(window);
        Directory.CreateDirectory(directory);
        using (var stream = File.Create(Path.Combine(directory, WindowFile)))
        using (var writer = new BinaryWriter(stream))
        {
            window.Save(writer);
        }

        File.WriteAllText(Path.Combine(directory, ProgressFile), JsonSerializer.Serialize(progress, Json));
    }

    /// <summary>Null when the version was not published by a trainer (e.g. a bootstrap checkpoint).</summary>
    public static TrainerProgress? Load(string directory, ReplayWindow window, int seed)
    {
        ArgumentNullException.ThrowIfNull(window);
        var progressPath = Path.Combine(directory, ProgressFile);
        if (!File.Exists(progressPath))
        {
            return null;
        }

        var progress = JsonSerializer.Deserialize<TrainerProgress>(File.ReadAllText(progressPath), Json)
            ?? throw new InvalidDataException($"{progressPath} is empty.");
        using var stream = File.OpenRead(Path.Combine(directory, WindowFile));
        using var reader = new BinaryReader(stream);
        window.Load(reader, seed);
        return progress;
    }
}
