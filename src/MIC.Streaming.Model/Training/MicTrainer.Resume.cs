using MIC.Streaming.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Training;

/// <summary>Saving and restoring a run at an epoch boundary (see <see cref="TrainingResume"/>).</summary>
public sealed partial class MicTrainer
{
    private const string ModelPrefix = "model/";
    private const string BestPrefix = "best/";
    private const string AdamPrefix = "adam/";
    private const string UserSupportPrefix = "support/users/";
    private const string ItemSupportPrefix = "support/items/";
    private const string CrossSupportPrefix = "support/cross/";
    private const string RngName = "rng/cpu";

    private void SaveResume(TrainingResume resume, Dictionary<string, Tensor>? bestState, TrainingResumeHeader header)
    {
        using var scope = torch.NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        tensors.AddRange(Model.state_dict().Select(p => new KeyValuePair<string, Tensor>(ModelPrefix + p.Key, p.Value)));
        if (bestState is not null)
        {
            tensors.AddRange(bestState.Select(p => new KeyValuePair<string, Tensor>(BestPrefix + p.Key, p.Value)));
        }

        var (adamSteps, moments) = Optimizer.ExportState(AdamPrefix);
        tensors.AddRange(moments);
        tensors.Add(new(RngName, torch.random.get_rng_state()));
        double? userRecall = null, itemRecall = null;
        if (_userSupport is not null)
        {
            (userRecall, var state) = _userSupport.ExportState(UserSupportPrefix);
            tensors.AddRange(state);
        }

        if (_itemSupport is not null)
        {
            (itemRecall, var state) = _itemSupport.ExportState(ItemSupportPrefix);
            tensors.AddRange(state);
        }

        if (_crossSupport is not null)
        {
            tensors.AddRange(_crossSupport.ExportState(CrossSupportPrefix));
        }

        TensorFile.Write(resume.Path, header with { AdamSteps = adamSteps, UserSupportRecall = userRecall, ItemSupportRecall = itemRecall }, tensors);
    }

    /// <summary>Loads a saved run into this trainer; returns its header and the best epoch's weights (owned by the caller; null before any epoch was best).</summary>
    private (TrainingResumeHeader Header, Dictionary<string, Tensor>? Best) RestoreResume(TrainingResume resume, SequenceTable train)
    {
        var (header, tensors) = resume.Load(_options);
        try
        {
            var device = TorchRuntime.Device;
            var model = Pick(tensors, ModelPrefix);
            Model.load_state_dict(model, strict: true);
            var best = Pick(tensors, BestPrefix);
            Dictionary<string, Tensor>? bestState = null;
            if (best.Count > 0)
            {
                bestState = best.ToDictionary(p => p.Key, p => p.Value.to(device).clone().DetachFromDisposeScope(), StringComparer.Ordinal);
            }

            Optimizer.ImportState(header.AdamSteps, tensors, AdamPrefix);
            torch.random.set_rng_state(tensors[RngName]);
            _userSupport?.ImportState(header.UserSupportRecall, tensors, UserSupportPrefix, device);
            _itemSupport?.ImportState(header.ItemSupportRecall, tensors, ItemSupportPrefix, device);
            _crossSupport?.ImportState(tensors, CrossSupportPrefix, device);
            if (_userSupport is { IsReady: true } || _crossSupport is { IsReady: true })
            {
                SetUserRows(train);
            }

            Step = header.Step;
            return (header, bestState);
        }
        finally
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }
        }
    }

    private static Dictionary<string, Tensor> Pick(Dictionary<string, Tensor> tensors, string prefix) =>
        tensors.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(p => p.Key[prefix.Length..], p => p.Value, StringComparer.Ordinal);
}
