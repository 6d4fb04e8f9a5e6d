using System.Reflection;
using Spectre.Console.Cli;
using Spectre.Console.Cli.Testing;

namespace MIC.Streaming.Cli.Tests;

/// <summary>Every command's <c>--help</c> through the real command tree: exit 0 and every declared option shown.</summary>
[Collection(CliTestGroup.Name)]
public sealed class HelpScreenTests
{
    public static TheoryData<string> CommandPaths()
    {
        var data = new TheoryData<string>();
        foreach (var (path, _) in MicApp.Commands)
        {
            data.Add(path);
        }

        return data;
    }

    [Fact]
    public void Commands_CoverEveryCommandClassOfTheCli()
    {
        var commandTypes = typeof(MicApp).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(ICommand).IsAssignableFrom(t))
            .ToHashSet();

        Assert.Equal(commandTypes.OrderBy(t => t.Name), MicApp.Commands.Select(c => c.Command).ToHashSet().OrderBy(t => t.Name));
        Assert.True(MicApp.Commands.Count >= 16);
    }

    [Theory]
    [MemberData(nameof(CommandPaths))]
    public void Help_EveryCommand_ExitsZeroAndListsEveryOption(string path)
    {
        var app = new CommandAppTester();
        app.Configure(MicApp.Configure);

        var result = app.Run([.. path.Split(' '), "--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("OPTIONS:", result.Output, StringComparison.Ordinal);
        var command = MicApp.Commands.Single(c => c.Path == path).Command;
        foreach (var option in DeclaredOptions(SettingsType(command)))
        {
            Assert.Contains(option, result.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Version_PrintsTheBuildVersion()
    {
        var app = new CommandAppTester();
        app.Configure(MicApp.Configure);

        var result = app.Run("--version");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(CliErrorsVersion(), result.Output, StringComparison.Ordinal);
    }

    private static string CliErrorsVersion() => MIC.Streaming.Cli.Commands.CliErrors.Version.Split('+')[0];

    private static Type SettingsType(Type command)
    {
        for (var t = command; t is not null; t = t.BaseType)
        {
            if (t.IsGenericType && t.GetGenericArguments() is [var settings] && typeof(CommandSettings).IsAssignableFrom(settings))
            {
                return settings;
            }
        }

        throw new InvalidOperationException($"{command.Name} has no settings type.");
    }

    private static IEnumerable<string> DeclaredOptions(Type settings) =>
        settings.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => p.GetCustomAttribute<CommandOptionAttribute>())
            .Where(a => a is { IsHidden: false })
            .SelectMany(a => a!.LongNames.Select(n => "--" + n));
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CliTestGroup
{
    public const string Name = "mic CLI (Console.Error is captured)";
}
