using MIC.Streaming.Core.Baselines;
using MIC.Streaming.Core.Splits;

namespace MIC.Streaming.Core.Evaluation;

/// <summary>One value of a baseline's setting and its score on the validation users.</summary>
public sealed record TuningTrial(string Value, double Score);

/// <summary>A baseline scored on the evaluation users with the value chosen for its setting.</summary>
/// <param name="Result">The metrics with the chosen value.</param>
/// <param name="Setting">The setting's name (empty for a baseline without one).</param>
/// <param name="Value">The value used.</param>
/// <param name="How">"tuned on N validation users by M", "fixed by --setting", or "default".</param>
/// <param name="Trials">Every value tried on validation, in grid order (empty when not tuned).</param>
public sealed record TunedBaseline(EvaluationResult Result, string Setting, string Value, string How, IReadOnlyList<TuningTrial> Trials)
{
    /// <summary>"ItemCF (neighbours=all)", or the bare name for a baseline without a setting.</summary>
    public string Label => Setting.Length == 0 ? Result.Model : $"{Result.Model} ({Setting}={Value})";
}

/// <summary>
/// Chooses a baseline's setting the way a careful practitioner would: every value of its grid is
/// fitted on the train users and scored on the <em>validation</em> users; the best by
/// <see cref="Metric"/> (the first on ties) is then scored on the test users. Test users never
/// influence the choice.
/// </summary>
public static class BaselineTuning
{
    public const string Metric = "Recall@50";

    public static TunedBaseline Run(
        BaselineSpec spec,
        DatasetSplit split,
        bool tune = true,
        string? fixedValue = null,
        bool onTest = true,
        bool excludeHistory = false,
        Action<string>? log = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(split);
        string value;
        string how;
        var trials = new List<TuningTrial>();
        IRecommender? bestFitted = null;
        var bestFitSeconds = 0.0;
        if (fixedValue is not null)
        {
            value = fixedValue;
            how = "fixed by --setting";
        }
        else if (!spec.Tunable)
        {
            value = spec.Default;
            how = "no setting";
        }
        else if (!tune || split.Valid.Count == 0)
        {
            value = spec.Default;
            how = tune ? "default (the split has no validation users)" : "default";
        }
        else
        {
            TuningTrial? best = null;
            foreach (var candidate in spec.Grid)
            {
                var recommender = spec.Create(candidate);
                var valid = Evaluator.Evaluate(recommender, split, onTest: false, excludeHistory: excludeHistory, cancellationToken: cancellationToken);
                var trial = new TuningTrial(candidate, valid.Metrics[Metric]);
                trials.Add(trial);
                log?.Invoke($"{spec.Name} {spec.Setting}={candidate}: validation {Metric} {trial.Score:F4}");
                if (best is null || trial.Score > best.Score)
                {
                    // Keep the best fitted model (the first on ties): the fit depends only on train
                    // users, so the test pass reuses it (an EASE fit is a dense inverse).
                    (best, bestFitted, bestFitSeconds) = (trial, recommender, valid.FitSeconds);
                }
            }

            value = best!.Value;
            how = $"tuned on {split.Valid.Count} validation users by {Metric}";
        }

        EvaluationResult result;
        if (bestFitted is not null)
        {
            var cases = onTest ? split.Test : split.Valid;
            var (metrics, seconds) = Evaluator.Run(cases, (c, items, scores) => bestFitted.Recommend(c.History, items, scores), excludeHistory: excludeHistory, cancellationToken: cancellationToken);
            result = new EvaluationResult(bestFitted.Name, split.Dataset.Name, split.Protocol, metrics.Users, metrics.Means(), bestFitSeconds, seconds);
        }
        else
        {
            result = Evaluator.Evaluate(spec.Create(value), split, onTest: onTest, excludeHistory: excludeHistory, cancellationToken: cancellationToken);
        }

        return new TunedBaseline(result, spec.Setting, value, how, trials);
    }
}
