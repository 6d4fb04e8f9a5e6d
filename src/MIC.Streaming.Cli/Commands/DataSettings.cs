using System.ComponentModel;
using MIC.Streaming.Core.Import;
using MIC.Streaming.Core.Synthetic;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MIC.Streaming.Cli.Commands;

/// <summary>Where a dataset comes from: a public-format file, a .micds snapshot, or the built-in generator.</summary>
public class DataSettings : CommandSettings
{
    [CommandOption("--data <PATH>")]
    [Description("Dataset file (or MovieLens folder). Omit to use the built-in planted synthetic data.")]
    public string? Data { get; init; }

    [CommandOption("--format <FORMAT>")]
    [Description("Input format: comirec | taobao | s3rec | movielens | csv | micds. Required with --data.")]
    public string? Format { get; init; }

    [CommandOption("--skip-bad-lines")]
    [Description("Count and report malformed lines instead of stopping at the first one (file:line: reason).")]
    public bool SkipBadLines { get; init; }

    [CommandOption("--behaviours <LIST>")]
    [Description("Comma-separated behaviours to keep (taobao default: pv; csv default: all).")]
    public string? Behaviours { get; init; }

    [CommandOption("--min-rating <VALUE>")]
    [Description("MovieLens: keep ratings ≥ VALUE (default: every rating is an implicit click).")]
    public double? MinRating { get; init; }

    [CommandOption("--item-meta <PATH>")]
    [Description("Item side-information file; by default found next to the data (e.g. book_item_cate.txt, Beauty_item2attributes.json, movies.csv).")]
    public string? ItemMeta { get; init; }

    [CommandOption("--columns <MAPPING>")]
    [Description("csv: role=column list, e.g. user=user_id,item=item_id,time=time[[,category=..]][[,behaviour=..]] (names need a header; or 0-based indices). Default: user=0,item=1,time=2; a first line whose time field is not a number is read as a header.")]
    public string? Columns { get; init; }

    [CommandOption("--delimiter <CHAR>")]
    [Description("csv: field delimiter, one character or 'tab' (default ',').")]
    [DefaultValue(",")]
    public string Delimiter { get; init; } = ",";

    [CommandOption("--k-core <K>")]
    [Description("Iteratively drop users and items with fewer than K interactions (ComiRec uses 5; 0 = off).")]
    [DefaultValue(0)]
    public int KCore { get; init; }

    [CommandOption("--synthetic-users <N>")]
    [Description("Synthetic data: number of users (when --data is omitted).")]
    [DefaultValue(3000)]
    public int SyntheticUsers { get; init; } = 3000;

    [CommandOption("--synthetic-items <N>")]
    [Description("Synthetic data: number of items (when --data is omitted).")]
    [DefaultValue(2000)]
    public int SyntheticItems { get; init; } = 2000;

    [CommandOption("--synthetic-seed <SEED>")]
    [Description("Synthetic data: generator seed.")]
    [DefaultValue(42)]
    public int SyntheticSeed { get; init; } = 42;

    public override ValidationResult Validate()
    {
        if (Data is not null && Format is null)
        {
            return ValidationResult.Error("--format is required with --data (comirec | taobao | s3rec | movielens | csv | micds).");
        }

        if (Format is not null && !DatasetImporters.FormatNames.Contains(Format, StringComparer.OrdinalIgnoreCase))
        {
            return ValidationResult.Error($"--format '{Format}' is unknown; use one of {string.Join(", ", DatasetImporters.FormatNames)}.");
        }

        if (Data is not null && !File.Exists(Data) && !Directory.Exists(Data))
        {
            return ValidationResult.Error($"--data '{Data}' does not exist.");
        }

        if (Data is not null && Directory.Exists(Data) && !string.Equals(Format, "movielens", StringComparison.OrdinalIgnoreCase))
        {
            return ValidationResult.Error($"--data '{Data}' is a folder; --format {Format} reads one file (only movielens reads a folder).");
        }

        if (Data is not null && File.Exists(Data) && new FileInfo(Data).Length == 0)
        {
            return ValidationResult.Error($"--data '{Data}' is empty (0 bytes).");
        }

        if (ParseDelimiter() is null)
        {
            return ValidationResult.Error($"--delimiter '{Delimiter}' must be one character or 'tab'.");
        }

        if (Columns is not null)
        {
            try
            {
                GenericCsvImporter.ParseMapping(Columns);
            }
            catch (ArgumentException ex)
            {
                return ValidationResult.Error(ex.Message);
            }
        }

        if (MinRating is { } r && (double.IsNaN(r) || r < 0))
        {
            return ValidationResult.Error($"--min-rating {r} is out of range; it must be ≥ 0.");
        }

        return CliValidation.FirstError(
            CliValidation.AtLeast("--k-core", KCore, 0),
            CliValidation.AtLeast("--synthetic-users", SyntheticUsers, 10),
            CliValidation.AtLeast("--synthetic-items", SyntheticItems, 10));
    }

    public char? ParseDelimiter() => Delimiter switch
    {
        "tab" or "\\t" or "\t" => '\t',
        { Length: 1 } d => d[0],
        _ => null,
    };

    public SyntheticOptions SyntheticOptions() => new() { Users = SyntheticUsers, Items = SyntheticItems, Seed = SyntheticSeed };

    public ImportOptions ImportOptions(IProgress<double>? progress) => new()
    {
        SkipBadLines = SkipBadLines,
        Behaviours = Behaviours is null ? null : new HashSet<string>(Behaviours.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal),
        MinRating = MinRating,
        ItemMetaPath = ItemMeta,
        Columns = Columns,
        Delimiter = ParseDelimiter() ?? ',',
        Progress = progress,
    };
}

/// <summary>Dataset + evaluation protocol.</summary>
public class ProtocolSettings : DataSettings
{
    [CommandOption("--protocol <NAME>")]
    [Description("comirec (users split 80/10/10, history = first 80 % of the sequence, last --max-len items) or leave-last-out.")]
    [DefaultValue("comirec")]
    public string Protocol { get; init; } = "comirec";

    [CommandOption("--seed <SEED>")]
    [Description("Seed of the user shuffle (comirec protocol).")]
    [DefaultValue(2020)]
    public int Seed { get; init; } = 2020;

    [CommandOption("--max-len <N>")]
    [Description("Visible history length for evaluation users (ComiRec: 20 for Books, 50 for Taobao).")]
    [DefaultValue(20)]
    public int MaxLen { get; init; } = 20;

    [CommandOption("--valid")]
    [Description("Evaluate on the validation users instead of the test users.")]
    public bool OnValid { get; init; }

    [CommandOption("--exclude-history")]
    [Description("Remove the user's visible history items from every ranked list before scoring (default: score lists as returned, like ComiRec).")]
    public bool ExcludeHistory { get; init; }

    [CommandOption("--out <DIR>")]
    [Description("Folder for the results (created if missing). Default: results/<command>, e.g. results/train, results/experiment.")]
    public string? Out { get; init; }

    /// <summary>The results folder: <c>--out</c>, or <c>results/&lt;command&gt;</c> so commands never overwrite each other's files.</summary>
    public string OutDir(string command) => Out ?? Path.Combine("results", command);

    public override ValidationResult Validate()
    {
        var baseResult = base.Validate();
        if (!baseResult.Successful)
        {
            return baseResult;
        }

        if (Protocol is not ("comirec" or "leave-last-out"))
        {
            return ValidationResult.Error($"--protocol '{Protocol}' is unknown; use comirec or leave-last-out.");
        }

        return CliValidation.FirstError(
            CliValidation.AtLeast("--max-len", MaxLen, 1),
            Out is { Length: 0 } ? ValidationResult.Error("--out '' is empty; give a folder.") : null,
            Out is not null && File.Exists(Out) ? ValidationResult.Error($"--out '{Out}' is a file; give a folder.") : null);
    }
}
