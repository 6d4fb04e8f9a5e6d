using System.Globalization;
using Spectre.Console;

namespace MIC.Streaming.Cli.Commands;

/// <summary>
/// Option checks shared by the commands' <c>Validate()</c>: every message names the option, the value
/// given and what is allowed, and every check runs before any data is read or any model trained.
/// </summary>
internal static class CliValidation
{
    public static ValidationResult? AtLeast(string option, int value, int min) =>
        value < min ? ValidationResult.Error($"{option} {value.ToString(CultureInfo.InvariantCulture)} is out of range; it must be ≥ {min.ToString(CultureInfo.InvariantCulture)}.") : null;

    public static ValidationResult? AtLeast(string option, double value, double min) =>
        double.IsNaN(value) || value < min ? ValidationResult.Error($"{option} {value.ToString(CultureInfo.InvariantCulture)} is out of range; it must be ≥ {min.ToString(CultureInfo.InvariantCulture)}.") : null;

    public static ValidationResult? Positive(string option, double value) =>
        double.IsNaN(value) || value <= 0 ? ValidationResult.Error($"{option} {value.ToString(CultureInfo.InvariantCulture)} is out of range; it must be > 0.") : null;

    /// <summary>The first failed check, or success.</summary>
    public static ValidationResult FirstError(params ValidationResult?[] checks) =>
        checks.FirstOrDefault(c => c is not null) ?? ValidationResult.Success();

    /// <summary>Splits a comma-separated list; empty entries are dropped.</summary>
    public static string[] List(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Every entry of a comma-separated list must be one of <paramref name="allowed"/> (case-insensitive).</summary>
    public static ValidationResult? OneOfEach(string option, string value, IReadOnlyCollection<string> allowed)
    {
        var entries = List(value);
        if (entries.Length == 0)
        {
            return ValidationResult.Error($"{option} '{value}' is empty; use one or more of {string.Join(", ", allowed)}.");
        }

        var bad = entries.FirstOrDefault(e => !allowed.Contains(e, StringComparer.OrdinalIgnoreCase));
        return bad is null ? null : ValidationResult.Error($"{option}: '{bad}' is unknown; use one or more of {string.Join(", ", allowed)}.");
    }

    /// <summary>Every entry of a comma-separated list must be an integer.</summary>
    public static ValidationResult? Integers(string option, string value)
    {
        var entries = List(value);
        if (entries.Length == 0)
        {
            return ValidationResult.Error($"{option} '{value}' is empty; give one or more integers, e.g. 2020,2021.");
        }

        var bad = entries.FirstOrDefault(e => !int.TryParse(e, NumberStyles.Integer, CultureInfo.InvariantCulture, out _));
        return bad is null ? null : ValidationResult.Error($"{option}: '{bad}' is not an integer.");
    }

    /// <summary>An output file's folder is created when missing; a path that is an existing folder is an error.</summary>
    public static ValidationResult? OutputFile(string option, string? path) =>
        path is not null && Directory.Exists(path) ? ValidationResult.Error($"{option} '{path}' is a folder; give a file path.") : null;

    /// <summary>Creates the folder that will hold <paramref name="file"/>.</summary>
    public static void EnsureParent(string file)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(file));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }
    }
}
