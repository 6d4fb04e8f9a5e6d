using System.Diagnostics;
using Spectre.Console.Cli.Testing;

namespace MIC.Streaming.Cli.Tests;

/// <summary>Runs <c>mic</c> command lines: in this process through the real CommandApp, or as the built executable in a process of its own.</summary>
internal static class CliRun
{
    /// <summary>Runs a command line in-process; returns the exit code, what went to stderr and the console output.</summary>
    public static (int Code, string Error, string Output) InProcess(params string[] args)
    {
        var previousError = Console.Error;
        var previousConsole = Spectre.Console.AnsiConsole.Console;
        using var error = new StringWriter();
        Console.SetError(error);
        try
        {
            var app = new CommandAppTester();
            // The tester's console is int.MaxValue columns wide, so that no table or line wraps; but a
            // Rule fills the width, and building a 2-billion-character line ends in OutOfMemoryException.
            // 10,000 columns wraps nothing the tests read and keeps a Rule at 10 KB.
            app.Console.Profile.Width = 10_000;
            app.Configure(MicApp.Configure);
            Spectre.Console.AnsiConsole.Console = app.Console; // the commands write through the static console
            var result = app.Run(args);
            return (result.ExitCode, error.ToString(), app.Console.Output);
        }
        finally
        {
            Console.SetError(previousError);
            Spectre.Console.AnsiConsole.Console = previousConsole;
        }
    }

    /// <summary>Starts the built <c>mic</c> executable (copied beside the tests) with its output discarded.</summary>
    public static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "mic"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        var process = Process.Start(info) ?? throw new InvalidOperationException("mic did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
