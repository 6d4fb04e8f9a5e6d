namespace MIC.Streaming.Core.Baselines;

/// <summary>The baseline registry used by the CLI (<c>--model</c>).</summary>
public static class Recommenders
{
    public static IReadOnlyList<string> Names { get; } = ["mostpop", "itemcf", "usercf"];

    public static IRecommender Create(string name) => name.ToLowerInvariant() switch
    {
        "mostpop" => new MostPop(),
        "itemcf" => new ItemCF(),
        "usercf" => new UserCF(),
        _ => throw new ArgumentException($"Unknown model '{name}'. Known: {string.Join(", ", Names)}.", nameof(name)),
    };
}
