namespace MIC.Streaming.Core.Splits;

/// <summary>
/// One evaluation user: the history the model may see (oldest first, at most maxLen items) and the
/// items it must retrieve, in sequence order (duplicates kept; textbook metrics use the distinct set).
/// </summary>
public sealed record EvalCase(int User, int[] History, int[] Targets);
