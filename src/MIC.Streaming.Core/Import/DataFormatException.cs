namespace MIC.Streaming.Core.Import;

/// <summary>A malformed input line: names the file, the 1-based line number and the reason.</summary>
public sealed class DataFormatException : Exception
{
    public DataFormatException(string file, long line, string reason)
        : base($"{file}:{line}: {reason}")
    {
        File = file;
        Line = line;
        Reason = reason;
    }

    public DataFormatException()
        : this("?", 0, "malformed input")
    {
    }

    public DataFormatException(string message)
        : this("?", 0, message)
    {
    }

    public DataFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        File = "?";
        Reason = message;
    }

    public string File { get; } = "?";

    public long Line { get; }

    public string Reason { get; } = "malformed input";
}
