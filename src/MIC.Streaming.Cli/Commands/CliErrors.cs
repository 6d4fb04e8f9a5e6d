using System.Reflection;
using MIC.Streaming.Core.Import;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

/// <summary>How <c>mic</c> reports a failure: one line on stderr, exit code 1 (2 for a usage error).</summary>
public static class CliErrors
{
    /// <summary>The informational version of this build (<c>mic --version</c>).</summary>
    public static string Version { get; } =
        typeof(CliErrors).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(CliErrors).Assembly.GetName().Version?.ToString() ?? "unknown";

    public static int Report(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var ex = exception is AggregateException { InnerExceptions.Count: 1 } agg ? agg.InnerException! : exception;
        var (message, code) = ex switch
        {
            CommandParseException or CommandRuntimeException => (ex.Message, 2),
            ArgumentException { ParamName: { } name } a => (a.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal), 1),
            CliException or DataFormatException or ArgumentException or FileNotFoundException or DirectoryNotFoundException
                or InvalidDataException or FormatException or IOException or UnauthorizedAccessException => (ex.Message, 1),
            OperationCanceledException => ("cancelled.", 130),
            // Settings a command's hosted silo reads (environment, e.g. Trainer__KeepVersions=abc): a user's error naming the key.
            Microsoft.Extensions.Options.OptionsValidationException => ($"configuration: {ex.Message}", 1),
            InvalidOperationException when ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) => ($"configuration: {ex.Message}", 1),
            _ => ($"{ex.GetType().Name}: {ex.Message} (this is a bug; please report it with the command line)", 1),
        };
        var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        if (Console.IsErrorRedirected)
        {
            stderr.Profile.Width = 1000; // one line per error in logs, never wrapped
        }
        stderr.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
        if (Environment.GetEnvironmentVariable("MIC_DEBUG") == "1")
        {
            stderr.WriteLine(ex.ToString());
        }

        return code;
    }
}
