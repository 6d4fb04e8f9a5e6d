using System.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace MIC.Streaming.Deploy.Tests;

internal static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => System.IO.Path.Combine(Root, relative);

    /// <summary>The helm binary scripts/prereqs.sh installs (.tools/bin/helm), MIC_HELM, or helm on PATH.</summary>
    public static string Helm()
    {
        var candidates = new[] { Environment.GetEnvironmentVariable("MIC_HELM"), PathOf(".tools/bin/helm") }
            .Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(p => System.IO.Path.Combine(p, "helm")));
        return candidates.FirstOrDefault(c => !string.IsNullOrEmpty(c) && File.Exists(c))
            ?? throw new InvalidOperationException("helm not found: run scripts/prereqs.sh (installs .tools/bin/helm) or set MIC_HELM.");
    }

    public static (int ExitCode, string Output) Run(string file, string arguments, string? workingDirectory = null)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Root,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit(120_000);
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>Every document of a multi-document YAML stream.</summary>
    public static List<YamlMappingNode> Documents(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return [.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>()];
    }

    public static YamlNode? At(this YamlNode node, params string[] path)
    {
        var current = node;
        foreach (var key in path)
        {
            if (current is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var next))
            {
                current = next;
            }
            else if (current is YamlSequenceNode seq && int.TryParse(key, out var i) && i < seq.Children.Count)
            {
                current = seq.Children[i];
            }
            else
            {
                return null;
            }
        }

        return current;
    }

    public static string? Text(this YamlNode node, params string[] path) => (node.At(path) as YamlScalarNode)?.Value;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "MIC.Streaming.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Repository root (MIC.Streaming.sln) not found.");
    }
}
