namespace MIC.Streaming.Core.Import;

/// <summary>Options shared by every importer; format-specific ones are ignored by the others.</summary>
public sealed record ImportOptions
{
    /// <summary>Count and report malformed lines instead of failing on the first one.</summary>
    public bool SkipBadLines { get; init; }

    /// <summary>Keep only these behaviour types (Taobao: default "pv", as ComiRec does). Null keeps all.</summary>
    public IReadOnlySet<string>? Behaviours { get; init; }

    /// <summary>MovieLens: keep ratings at or above this value (null keeps every rating as an implicit click).</summary>
    public double? MinRating { get; init; }

    /// <summary>Item side-information file (categories / attributes / genres); found next to the data when null.</summary>
    public string? ItemMetaPath { get; init; }

    /// <summary>Generic CSV: column mapping, e.g. <c>user=user_id,item=item_id,time=time</c> (names or 0-based indices).</summary>
    public string? Columns { get; init; }

    /// <summary>Generic CSV delimiter.</summary>
    public char Delimiter { get; init; } = ',';

    /// <summary>Generic CSV: the first line is a header (implied when <see cref="Columns"/> uses names).</summary>
    public bool? HasHeader { get; init; }

    /// <summary>Receives the fraction of the main file read so far (0..1).</summary>
    public IProgress<double>? Progress { get; init; }
}
