using System.Text;

namespace MIC.Streaming.Core.Import;

/// <summary>Streams a text file line by line with 1-based line numbers and byte-based progress.</summary>
internal static class LineReader
{
    public static IEnumerable<(string Line, long Number)> Read(string path, IProgress<double>? progress = null)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Data file not found: {path}", path);
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        var length = Math.Max(1, stream.Length);
        long number = 0;
        var nextReport = 0L;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (progress is not null && stream.Position >= nextReport)
            {
                progress.Report((double)stream.Position / length);
                nextReport = stream.Position + (length / 100);
            }

            yield return (line, number);
        }

        progress?.Report(1.0);
    }
}
