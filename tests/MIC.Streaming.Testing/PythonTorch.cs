using System.Diagnostics;
using Xunit;

namespace MIC.Streaming.Testing;

/// <summary>Where Debian's python3-torch is, for the PyTorch cross-checks.</summary>
public static class PythonTorch
{
    private static readonly Lazy<bool> Importable = new(() => Imports("torch, numpy"));

    /// <summary>True when <c>/usr/bin/python3 -c "import {modules}"</c> succeeds.</summary>
    public static bool Imports(string modules)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("/usr/bin/python3", $"-c \"import {modules}\"") { RedirectStandardError = true, RedirectStandardOutput = true })!;
            return p.WaitForExit(60_000) && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>True when <c>/usr/bin/python3 -c "import torch, numpy"</c> succeeds.</summary>
    public static bool Available => Importable.Value;

    /// <summary>The repository root (the folder holding MIC.Streaming.sln), found from the test binaries.</summary>
    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MIC.Streaming.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root from " + AppContext.BaseDirectory);
    }
}

/// <summary>A fact that runs only where Debian's python3-torch imports under /usr/bin/python3 (the test command installs it).</summary>
public sealed class PythonTorchFactAttribute : FactAttribute
{
    public PythonTorchFactAttribute()
    {
        if (!PythonTorch.Available)
        {
            Skip = "python3-torch is not installed (apt-get install python3-torch python3-numpy)";
        }
    }
}

/// <summary>A fact that runs only where numpy and scipy import under /usr/bin/python3 (the test command installs them).</summary>
public sealed class PythonScipyFactAttribute : FactAttribute
{
    private static readonly Lazy<bool> Importable = new(() => PythonTorch.Imports("numpy, scipy.sparse"));

    public PythonScipyFactAttribute()
    {
        if (!Importable.Value)
        {
            Skip = "numpy/scipy are not installed (apt-get install python3-numpy python3-scipy)";
        }
    }
}
