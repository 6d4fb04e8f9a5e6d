namespace MIC.Streaming.Core.Import;

/// <summary>What an import read, filtered out and rejected.</summary>
public sealed class ImportReport
{
    private const int MaxExamples = 10;
    private readonly List<string> _badExamples = [];

    public long LinesRead { get; internal set; }

    public long Interactions { get; internal set; }

    /// <summary>Well-formed lines left out on purpose (behaviour or rating filters).</summary>
    public long Filtered { get; internal set; }

    public long BadLines { get; private set; }

    /// <summary>Side-information rows about items that never occur in the interactions.</summary>
    public long UnknownItemMetaRows { get; internal set; }

    public IReadOnlyList<string> BadLineExamples => _badExamples;

    /// <summary>Records a malformed line: throws unless the import skips bad lines.</summary>
    internal void Bad(ImportOptions options, string file, long line, string reason)
    {
        if (!options.SkipBadLines)
        {
            throw new DataFormatException(file, line, reason);
        }

        BadLines++;
        if (_badExamples.Count < MaxExamples)
        {
            _badExamples.Add($"{file}:{line}: {reason}");
        }
    }
}
