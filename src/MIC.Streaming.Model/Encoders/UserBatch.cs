using static TorchSharp.torch;

namespace MIC.Streaming.Model.Encoders;

/// <summary>
/// User-side input of a batch: history item tokens [B, L] right-aligned (most recent last, 0 =
/// padding), the matching 1/0 mask [B, L] (float), and user field tokens [B, Fu] (may have Fu = 0).
/// <see cref="EmbeddedHistory"/> ([B, L, D]) may carry the history already embedded, so a perturbed
/// view of the same batch does not embed it again (the perturbation is applied on top of it).
/// </summary>
public sealed record UserBatch(Tensor History, Tensor HistoryMask, Tensor UserFields, Tensor? EmbeddedHistory = null);
