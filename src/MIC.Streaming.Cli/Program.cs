using MIC.Streaming.Cli;
using Spectre.Console.Cli;

if (Console.IsOutputRedirected)
{
    // Logs and CI: wide enough that result tables keep one row per model.
    Spectre.Console.AnsiConsole.Profile.Width = 200;
}

var app = new CommandApp();
app.Configure(MicApp.Configure);
return await app.RunAsync(args).ConfigureAwait(false);
