using System.Globalization;

namespace MIC.Streaming.Trainer;

/// <summary>
/// Section "Trainer": the streaming trainer on silos whose <c>Silo:Roles</c> include "trainer".
/// Kafka connection settings (servers, topic, SASL/SSL) come from the "Kafka" section.
/// </summary>
public sealed class TrainerOptions
{
    public const string SectionName = "Trainer";

    /// <summary>The trainer's own consumer group: its position is informational (the checkpoint holds the real one).</summary>
    public string GroupId { get; set; } = "mic-trainer";

    /// <summary>Start an incremental update this often (start to start) while new events arrive…</summary>
    public TimeSpan UpdateInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>…or as soon as this many new events are waiting.</summary>
    public int UpdateEvents { get; set; } = 20_000;

    /// <summary>No update with fewer new events than this.</summary>
    public int MinNewEvents { get; set; } = 200;

    /// <summary>Replay window: the most recent examples kept…</summary>
    public int WindowRecent { get; set; } = 100_000;

    /// <summary>…plus a uniform reservoir of older ones.</summary>
    public int WindowReservoir { get; set; } = 50_000;

    /// <summary>Replayed (older) examples mixed in per new example in an update.</summary>
    public double ReplayRatio { get; set; } = 1.0;

    /// <summary>Passes over the new examples per update.</summary>
    public int EpochsPerUpdate { get; set; } = 2;

    /// <summary>Cap on optimisation steps per update (bounds the refresh lag under bursts).</summary>
    public int MaxStepsPerUpdate { get; set; } = 200;

    /// <summary>Wall-clock budget of one update's optimisation steps: bounds the refresh lag whatever the event rate.</summary>
    public TimeSpan MaxUpdateTime { get; set; } = TimeSpan.FromSeconds(15);

    public int BatchSize { get; set; } = 1024;

    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Recent items kept per user (model input and the U2U2I histories of a version).</summary>
    public int MaxUserSequence { get; set; } = 50;

    /// <summary>Encoder for a model trained from scratch (when the registry has no version yet).</summary>
    public string Encoder { get; set; } = "youtubednn";

    /// <summary>Embedding dimension of a model trained from scratch (the paper's 128).</summary>
    public int Dimension { get; set; } = 128;

    /// <summary>Events needed before a first model is trained from scratch.</summary>
    public int InitialEvents { get; set; } = 20_000;

    /// <summary>Passes over the collected examples for a first model (no step cap).</summary>
    public int InitialEpochs { get; set; } = 3;

    /// <summary>Intra-op threads for training (0 = half the cores, at least 1), so serving on the same machine keeps its latency.</summary>
    public int Threads { get; set; }

    /// <summary>"auto" (CUDA when present, else CPU), "cpu" or "cuda".</summary>
    public string Device { get; set; } = "auto";

    /// <summary>
    /// Keep libtorch's freed tensor buffers in the heap between training steps (glibc thresholds,
    /// <see cref="MIC.Streaming.Model.TorchOptions.ReuseFreedMemory"/>): 1.3–1.7× the examples/s on CPU for
    /// ~90 MiB more resident memory (scripts/soak.sh, docs/BENCHMARKS.md). false keeps glibc's defaults.
    /// </summary>
    public bool ReuseFreedMemory { get; set; } = true;

    /// <summary>Share of incoming events scored before training on them (prequential evaluation).</summary>
    public double EvaluateShare { get; set; } = 0.1;

    /// <summary>Cap on scored events per second: each costs 4 queries per model (3 channels + merged).</summary>
    public int EvaluateMaxPerSecond { get; set; } = 50;

    /// <summary>K of online Recall@K / HitRate@K.</summary>
    public int EvaluateK { get; set; } = 50;

    /// <summary>Evaluated events the online metrics average over (a sliding window).</summary>
    public int EvaluateWindow { get; set; } = 2000;

    /// <summary>Also score the first model the trainer started from, frozen, on the same events.</summary>
    public bool CompareFrozen { get; set; } = true;

    /// <summary>Published versions kept in the model store (older ones are deleted).</summary>
    public int KeepVersions { get; set; } = 5;

    /// <summary>A CSV of online metrics per update, appended in the model store (<c>mic report</c> plots it).</summary>
    public string MetricsFile { get; set; } = "online-metrics.csv";

    public int Seed { get; set; } = 7;

    /// <summary>
    /// Stored bytes per vector the published approximate indexes may use (0 = IVF-Flat, 4·D + 8).
    /// Below that the least compressed of IVF-SQ8 (D + 8) and IVF-PQ (m + 8) that fits is built.
    /// </summary>
    public double IndexMaxBytesPerVector { get; set; }

    /// <summary>Recall@50 a published index must reach against exact search (0 = any); a version below it is not published.</summary>
    public double IndexRecallFloor { get; set; }

    /// <summary>
    /// The U2U2I user index of a published version holds only users with a click within this long
    /// of the newest click (event time; 00:00:00 = every user). Others keep their history in their
    /// grain but are not offered as similar users.
    /// </summary>
    public TimeSpan UserIndexWindow { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Cap on the users the trainer keeps (rows, recent sequences, fields); 0 = every user ever seen.
    /// At each update the least recently active users above the cap are forgotten with their replay
    /// examples, so trainer memory is O(cap + items), not O(every user). The model has no per-user
    /// weights: a forgotten user is still served from the live sequence its user grain holds, and
    /// comes back into the trainer with its next clicks. Also bounds the published dataset and the
    /// U2U2I user index.
    /// </summary>
    public int MaxUsers { get; set; }

    /// <summary>The index options every published version is built with.</summary>
    public Faiss.IndexBuildOptions IndexOptions => new() { MaxBytesPerVector = IndexMaxBytesPerVector, RecallFloor = IndexRecallFloor };

    public IEnumerable<string> Validate()
    {
        string Key(string name) => $"{SectionName}:{name}";
        if (string.IsNullOrWhiteSpace(GroupId))
        {
            yield return $"{Key(nameof(GroupId))} is required.";
        }

        if (UpdateInterval < TimeSpan.FromMilliseconds(100) || UpdateInterval > TimeSpan.FromHours(24))
        {
            yield return $"{Key(nameof(UpdateInterval))} must be between 00:00:00.1 and 1.00:00:00 (got {UpdateInterval}).";
        }

        if (UpdateEvents < 1 || MinNewEvents < 1 || MinNewEvents > UpdateEvents)
        {
            yield return $"{Key(nameof(UpdateEvents))} and {Key(nameof(MinNewEvents))} must satisfy 1 ≤ MinNewEvents ≤ UpdateEvents (got {MinNewEvents}, {UpdateEvents}).";
        }

        if (WindowRecent < 100 || WindowReservoir < 0)
        {
            yield return $"{Key(nameof(WindowRecent))} must be ≥ 100 and {Key(nameof(WindowReservoir))} ≥ 0.";
        }

        if (ReplayRatio is < 0 or > 100 || EpochsPerUpdate is < 1 or > 100 || MaxStepsPerUpdate < 1)
        {
            yield return $"{Key(nameof(ReplayRatio))} must be in 0..100, {Key(nameof(EpochsPerUpdate))} in 1..100 and {Key(nameof(MaxStepsPerUpdate))} ≥ 1.";
        }

        if (MaxUpdateTime < TimeSpan.FromMilliseconds(100) || MaxUpdateTime > TimeSpan.FromHours(1))
        {
            yield return $"{Key(nameof(MaxUpdateTime))} must be between 00:00:00.1 and 01:00:00 (got {MaxUpdateTime}).";
        }

        if (BatchSize < 2 || LearningRate <= 0 || LearningRate > 1)
        {
            yield return $"{Key(nameof(BatchSize))} must be ≥ 2 and {Key(nameof(LearningRate))} in (0, 1].";
        }

        if (MaxUserSequence is < 2 or > 10_000 || InitialEvents < 10 || InitialEpochs is < 1 or > 100)
        {
            yield return $"{Key(nameof(MaxUserSequence))} must be in 2..10000, {Key(nameof(InitialEvents))} ≥ 10 and {Key(nameof(InitialEpochs))} in 1..100.";
        }

        if (!Model.Encoders.EncoderRegistry.Names.Contains(Encoder, StringComparer.OrdinalIgnoreCase))
        {
            yield return $"{Key(nameof(Encoder))} must be one of {string.Join(", ", Model.Encoders.EncoderRegistry.Names)} (got '{Encoder}').";
        }

        if (Dimension is < 8 or > 1024)
        {
            yield return $"{Key(nameof(Dimension))} must be in 8..1024 (got {Dimension}).";
        }

        if (Threads is < 0 or > 1024)
        {
            yield return $"{Key(nameof(Threads))} must be in 0..1024 (got {Threads}).";
        }

        if (Device is not ("auto" or "cpu" or "cuda"))
        {
            yield return $"{Key(nameof(Device))} must be auto, cpu or cuda (got '{Device}').";
        }

        if (EvaluateShare is < 0 or > 1 || EvaluateK is < 1 or > 1000 || EvaluateWindow < 10 || EvaluateMaxPerSecond < 1)
        {
            yield return $"{Key(nameof(EvaluateShare))} must be in 0..1, {Key(nameof(EvaluateK))} in 1..1000, {Key(nameof(EvaluateWindow))} ≥ 10 and {Key(nameof(EvaluateMaxPerSecond))} ≥ 1.";
        }

        if (IndexMaxBytesPerVector < 0 || (IndexMaxBytesPerVector > 0 && Dimension is >= 8 and <= 1024 && IndexMaxBytesPerVector < Faiss.IndexPlanner.Kinds(Dimension)[^1].BytesPerVector))
        {
            var smallest = Dimension is >= 8 and <= 1024 ? Faiss.IndexPlanner.Kinds(Dimension)[^1] : null;
            yield return $"{Key(nameof(IndexMaxBytesPerVector))} must be 0 (IVF-Flat) or at least {smallest?.BytesPerVector.ToString(CultureInfo.InvariantCulture) ?? "the smallest kind's size"} ({smallest?.Name}) at dimension {Dimension} (got {IndexMaxBytesPerVector.ToString(CultureInfo.InvariantCulture)}).";
        }

        if (MaxUsers < 0 || (MaxUsers > 0 && MaxUsers < 100))
        {
            yield return $"{Key(nameof(MaxUsers))} must be 0 (no cap) or at least 100 (got {MaxUsers}).";
        }

        if (UserIndexWindow < TimeSpan.Zero)
        {
            yield return $"{Key(nameof(UserIndexWindow))} must be ≥ 00:00:00 (got {UserIndexWindow}).";
        }

        if (IndexRecallFloor is < 0 or > 1)
        {
            yield return $"{Key(nameof(IndexRecallFloor))} must be in 0..1 (got {IndexRecallFloor.ToString(CultureInfo.InvariantCulture)}).";
        }

        if (KeepVersions < 2)
        {
            yield return $"{Key(nameof(KeepVersions))} must be ≥ 2 (the served version and the one being loaded).";
        }
    }

    /// <summary>Training threads for this machine.</summary>
    public int EffectiveThreads => Threads > 0 ? Threads : Math.Max(1, Environment.ProcessorCount / 2);
}
