using MIC.Streaming.Core.Data;

namespace MIC.Streaming.Core.Import;

/// <summary>
/// Reads one public dataset format, streaming, into a <see cref="DatasetBuilder"/>.
/// To add a format: 1. implement this interface in a file named after the format;
/// 2. register it in <see cref="DatasetImporters.All"/>; 3. add a tiny-file test with a malformed line.
/// </summary>
public interface IDatasetImporter
{
    /// <summary>The name used on the command line (<c>--format</c>).</summary>
    string Format { get; }

    /// <summary>One line describing the files this format reads.</summary>
    string Description { get; }

    void Import(string path, DatasetBuilder builder, ImportOptions options, ImportReport report);
}
