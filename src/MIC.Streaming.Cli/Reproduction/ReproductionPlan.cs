using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;

namespace MIC.Streaming.Cli.Reproduction;

/// <summary>Which part of the paper a run serves.</summary>
[Flags]
public enum ReproductionParts
{
    None = 0,

    /// <summary>Table 2: every encoder, vanilla vs +MIC, U2I and merged channels.</summary>
    Table2 = 1,

    /// <summary>Table 3: DSSM × {vanilla, UI, UU, II, full} × every channel.</summary>
    Table3 = 2,

    /// <summary>Figure 4: alignment / uniformity of Table 3's variants against recall, and over epochs (no runs of its own).</summary>
    Figure4 = 4,

    /// <summary>The paper's pieces our MIC lacked (issue item 4): DSSM + full MIC with each one switched on, and all together.</summary>
    Pieces = 8,

    /// <summary>The encoder question: YouTubeDNN and ComiRec-SA + full MIC at λ 0.1 and 0.3, beside their vanilla and λ 0.7 runs.</summary>
    Lambda = 16,

    /// <summary>"A model worth serving": ComiRec-SA with one lever at a time (in-batch or sampled softmax, ± MIC), and the merged channel's weights chosen on validation users.</summary>
    Levers = 32,

    All = Table2 | Table3 | Figure4 | Pieces | Lambda | Levers,
}

/// <summary>
/// One training run of the reproduction: an encoder, a variant, a seed and the shared options, and
/// the name of a variation on them (an item-4 piece or a λ of the encoder question; null for the runs
/// of Tables 2–3).
/// </summary>
public sealed record ReproductionRunSpec(string Encoder, MicVariant Variant, int Seed, TrainOptions Options, string? Piece = null)
{
    private static readonly JsonSerializerOptions Json = new();

    /// <summary>
    /// File name of the run's result: readable parts plus a hash of every training option, so a run
    /// with other options (another objective, λ, …) never reuses a finished one.
    /// </summary>
    public string Key
    {
        get
        {
            var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(Options, Json))))[..10].ToLowerInvariant();
            return $"{Encoder}-{Variant.ToString().ToLowerInvariant()}-s{Seed}-{hash}";
        }
    }

    /// <summary>"dssm" or "dssm+MIC(FULL)" as the other commands name models; a piece run adds "+piece".</summary>
    public string Model => (Variant == MicVariant.Base ? Encoder : $"{Encoder}+MIC({Variant.ToString().ToUpperInvariant()})") + (Piece is null ? string.Empty : "+" + Piece);
}

/// <summary>
/// The runs behind Tables 2–3 and Figure 4, in the order they are trained: seed by seed, so after
/// the first seed every cell has a value and later seeds add the spread. A run both tables need
/// (DSSM vanilla and full) is trained once.
/// </summary>
public static class ReproductionPlan
{
    public static readonly MicVariant[] Table3Variants = [MicVariant.Base, MicVariant.UI, MicVariant.UU, MicVariant.II, MicVariant.Full];

    /// <summary>Hard negatives per anchor and item-user slots of the piece runs.</summary>
    public const int PieceHardNegatives = 16;

    public const int PieceItemUserSlots = 20;

    /// <summary>The item-4 pieces, each a change to the shared options (DSSM + full MIC), item 3's exact support set, items 2–3's other readings alone, and the four pieces at once.</summary>
    public static IReadOnlyList<(string Name, Func<TrainOptions, TrainOptions> Apply)> Pieces { get; } =
    [
        ("cross-positives", o => o with { Mic = o.Mic with { CrossPositives = true } }),
        ("hard-negatives", o => o with { Mic = o.Mic with { HardNegatives = PieceHardNegatives } }),
        ("user-id-field", o => o with { EncoderOptions = o.EncoderOptions with { UserIdField = true } }),
        ("item-user-field", o => o with { EncoderOptions = o.EncoderOptions with { ItemUserSlots = PieceItemUserSlots } }),
        // Item 3's comparison, not a piece of the paper: every support-set search exact (the default
        // searches banks above 4,096 rows approximately, finding ~0.8 of the exact user neighbours on Beauty).
        ("exact-support", o => o with { Mic = o.Mic with { SupportExactBelow = int.MaxValue } }),
        // Items 2 and 3's other readings, each alone against the paper's: UU/II in the pairwise form
        // (N−1 negatives each way) and the support set built at step 0 from the untrained model. Under
        // a reproduction that already uses that reading, the run is the full-MIC run and is not repeated.
        ("pairwise-uu-ii", o => o with { Mic = o.Mic with { SameSideForm = ContrastiveForm.Pairwise } }),
        ("support-from-step-0", o => o with { Mic = o.Mic with { SupportWarmupSteps = 0 } }),
        ("all-pieces", o => o with
        {
            Mic = o.Mic with { CrossPositives = true, HardNegatives = PieceHardNegatives },
            EncoderOptions = o.EncoderOptions with { UserIdField = true, ItemUserSlots = PieceItemUserSlots },
        }),
    ];

    /// <summary>The encoders of the encoder question (MIC did not help them under the in-batch reading).</summary>
    public static readonly string[] LambdaEncoders = ["youtubednn", "comirec-sa"];

    /// <summary>The λ values tried beside the paper's 0.7, each a change to the shared options (full MIC).</summary>
    public static IReadOnlyList<(string Name, Func<TrainOptions, TrainOptions> Apply)> Lambdas { get; } =
    [
        ("lambda-0.1", o => o with { Mic = o.Mic with { Lambda = 0.1 } }),
        ("lambda-0.3", o => o with { Mic = o.Mic with { Lambda = 0.3 } }),
    ];

    /// <summary>The encoder the levers are tried on (the grid's best on Beauty and Sports).</summary>
    public const string LeverEncoder = "comirec-sa";

    /// <summary>Catalogue items drawn as negatives per step by the sampled-softmax levers (10 × batch, ComiRec's setting).</summary>
    public const int LeverSampledNegatives = 10_240;

    /// <summary>
    /// The levers of "a model worth serving", each a variant and a change to the shared options that
    /// sets every option it depends on (so a lever's run is the same whatever the reproduction's reading):
    /// the in-batch softmax, the sampled softmax, and each with MIC (the in-batch reading's MIC —
    /// pairwise UU/II, support set from step 0 — and the paper's — NT-Xent, support set after 200 steps),
    /// and the in-batch softmax with a longer history (<see cref="LeverMaxLen"/>).
    /// </summary>
    public static IReadOnlyList<(string Name, MicVariant Variant, Func<TrainOptions, TrainOptions> Apply)> Levers { get; } =
    [
        ("lever-inbatch", MicVariant.Base, o => Reading(o, 0, ContrastiveForm.Pairwise, 0)),
        ("lever-sampled", MicVariant.Base, o => Reading(o, LeverSampledNegatives, ContrastiveForm.NtXent, 200)),
        ("lever-inbatch-mic", MicVariant.Full, o => Reading(o, 0, ContrastiveForm.Pairwise, 0)),
        ("lever-sampled-mic", MicVariant.Full, o => Reading(o, LeverSampledNegatives, ContrastiveForm.NtXent, 200)),
        ("lever-inbatch-maxlen50", MicVariant.Base, o => Reading(o, 0, ContrastiveForm.Pairwise, 0) with { EncoderOptions = o.EncoderOptions with { MaxLen = LeverMaxLen } }),
    ];

    /// <summary>
    /// The history length of the max-len lever: the model reads up to this many recent items, and its
    /// evaluation users see as many (their split is cut there, not at the reproduction's --max-len).
    /// </summary>
    public const int LeverMaxLen = 50;

    /// <summary>A softmax objective beside the logistic loss (in-batch when <paramref name="sampled"/> is 0, else sampled over that many catalogue items), with the UU/II form and support warm-up of its reading.</summary>
    private static TrainOptions Reading(TrainOptions o, int sampled, ContrastiveForm sameSide, int supportWarmup) =>
        o with { Mic = o.Mic with { SoftmaxWeight = 1, SampledNegatives = sampled, SameSideForm = sameSide, SupportWarmupSteps = supportWarmup } };

    /// <summary>
    /// The lever a finished run measures, or null: a ComiRec-SA run of the lever's variant whose options
    /// the lever leaves unchanged (a Table 2 run of the in-batch reading is the in-batch lever's run).
    /// </summary>
    public static string? LeverOf(ReproductionRunResult run)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.Encoder != LeverEncoder || (run.Piece is not null && !run.Piece.StartsWith("lever-", StringComparison.Ordinal)))
        {
            return null;
        }

        if (run.Piece is not null)
        {
            return Levers.FirstOrDefault(l => l.Name == run.Piece).Name;
        }

        var options = JsonSerializer.Serialize(run.Options);
        return Levers.FirstOrDefault(l => l.Variant.ToString().Equals(run.Variant, StringComparison.OrdinalIgnoreCase)
            && JsonSerializer.Serialize(l.Apply(run.Options)) == options).Name;
    }

    public static IReadOnlyList<ReproductionRunSpec> Runs(ReproductionParts parts, IReadOnlyList<string> encoders, IReadOnlyList<int> seeds, TrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(encoders);
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(options);
        var runs = new List<ReproductionRunSpec>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        void Add(string encoder, MicVariant variant, int seed, (string Name, Func<TrainOptions, TrainOptions> Apply)? piece = null)
        {
            var o = options with { Encoder = encoder, Seed = seed, Mic = options.Mic with { Variant = variant } };
            var spec = piece is { } p ? new ReproductionRunSpec(encoder, variant, seed, p.Apply(o), p.Name) : new ReproductionRunSpec(encoder, variant, seed, o);
            if (keys.Add(spec.Key))
            {
                runs.Add(spec);
            }
        }

        foreach (var seed in seeds)
        {
            if (parts.HasFlag(ReproductionParts.Table2))
            {
                foreach (var encoder in encoders)
                {
                    Add(encoder, MicVariant.Base, seed);
                    Add(encoder, MicVariant.Full, seed);
                }
            }

            if (parts.HasFlag(ReproductionParts.Table3) || parts.HasFlag(ReproductionParts.Figure4))
            {
                foreach (var variant in Table3Variants)
                {
                    Add("dssm", variant, seed);
                }
            }

            if (parts.HasFlag(ReproductionParts.Pieces))
            {
                Add("dssm", MicVariant.Full, seed);
                foreach (var piece in Pieces)
                {
                    Add("dssm", MicVariant.Full, seed, piece);
                }
            }

            if (parts.HasFlag(ReproductionParts.Lambda))
            {
                foreach (var encoder in LambdaEncoders.Where(encoders.Contains))
                {
                    Add(encoder, MicVariant.Base, seed);
                    Add(encoder, MicVariant.Full, seed);
                    foreach (var lambda in Lambdas)
                    {
                        Add(encoder, MicVariant.Full, seed, lambda);
                    }
                }
            }

            if (parts.HasFlag(ReproductionParts.Levers) && encoders.Contains(LeverEncoder))
            {
                foreach (var (name, variant, apply) in Levers)
                {
                    Add(LeverEncoder, variant, seed, (name, apply));
                }
            }
        }

        return runs;
    }
}
