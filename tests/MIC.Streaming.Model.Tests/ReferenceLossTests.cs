using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using MIC.Streaming.Testing;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Tests;

/// <summary>
/// Every part of the MIC loss (softmax / logistic base, UI, UU, II with support positives, the total)
/// recomputed by bench/reference/mic_loss.py in PyTorch from the tensors this step used.
/// </summary>
[Collection("torch")]
public class ReferenceLossTests
{
    [PythonTorchFact]
    public void EveryLossPart_AgreesWithThePyTorchReference()
    {
        var split = ModelTestData.SmallSplit;
        var examples = new TrainingExamples(split.Train);
        int[] batch = [.. Enumerable.Range(0, 96)];
        var configurations = new (ContrastiveForm Form, double Softmax, int Sampled, bool Pieces)[]
        {
            (ContrastiveForm.NtXent, 0, 0, false),      // the paper's reading: logistic base, NT-Xent everywhere
            (ContrastiveForm.Pairwise, 1, 0, false),    // the product's default: in-batch softmax, pairwise UU/II
            (ContrastiveForm.NtXent, 1, 50, false),     // sampled softmax
            (ContrastiveForm.NtXent, 0, 0, true),       // + mined cross-side UI positives and cluster hard negatives
            (ContrastiveForm.Pairwise, 1, 0, true),
        };
        foreach (var (form, softmax, sampled, pieces) in configurations)
        {
            var options = ModelTestData.Options("dssm", MicVariant.Full);
            options = options with { Mic = options.Mic with { SameSideForm = form, SoftmaxWeight = softmax, SampledNegatives = sampled, CrossPositives = pieces, HardNegatives = pieces ? 5 : 0 } };
            using var trainer = new MicTrainer(ModelTestData.SmallTables, options);
            trainer.RefreshSupportSets(split.Train);
            var (parts, inputs) = trainer.CaptureLoss(examples, batch);
            var ids = inputs["target_ids"].data<long>().ToArray();
            Assert.True(ids.Distinct().Count() < ids.Length, "the batch repeats target items, so the group masks are exercised");
            Assert.Contains("uu_support", inputs.Keys);
            Assert.Equal(pieces, inputs.ContainsKey("ui_mined_items") && inputs.ContainsKey("uu_hard") && inputs.ContainsKey("ii_hard"));

            using var dir = new MIC.Streaming.Testing.TempDir();
            Export(dir.Path, trainer.Model, inputs, options.Mic);
            var reference = RunReference(dir.Path);
            var label = $"{form}, softmax {softmax}, sampled {sampled}, pieces {pieces}";
            Assert.True(Math.Abs(reference["softmax"] - parts.Softmax) < 1e-4, $"{label}: softmax {parts.Softmax} vs {reference["softmax"]}");
            Assert.True(Math.Abs(reference["logistic"] - parts.Logistic) < 1e-4, $"{label}: logistic {parts.Logistic} vs {reference["logistic"]}");
            Assert.True(Math.Abs(reference["ui"] - parts.UI) < 1e-4, $"{label}: ui {parts.UI} vs {reference["ui"]}");
            Assert.True(Math.Abs(reference["uu"] - parts.UU) < 1e-4, $"{label}: uu {parts.UU} vs {reference["uu"]}");
            Assert.True(Math.Abs(reference["ii"] - parts.II) < 1e-4, $"{label}: ii {parts.II} vs {reference["ii"]}");
            Assert.True(Math.Abs(reference["total"] - parts.Total) < 1e-4 * Math.Max(1, Math.Abs(parts.Total)), $"{label}: total {parts.Total} vs {reference["total"]}");
            foreach (var t in inputs.Values)
            {
                t.Dispose();
            }
        }
    }

    private static void Export(string dir, MicModel model, Dictionary<string, Tensor> inputs, MicOptions o)
    {
        var tensors = new Dictionary<string, Tensor>(inputs)
        {
            ["user_head_hidden_weight"] = model.UserHead.Hidden.weight!,
            ["user_head_hidden_bias"] = model.UserHead.Hidden.bias!,
            ["user_head_output_weight"] = model.UserHead.Output.weight!,
            ["user_head_output_bias"] = model.UserHead.Output.bias!,
            ["item_head_hidden_weight"] = model.ItemHead.Hidden.weight!,
            ["item_head_hidden_bias"] = model.ItemHead.Hidden.bias!,
            ["item_head_output_weight"] = model.ItemHead.Output.weight!,
            ["item_head_output_bias"] = model.ItemHead.Output.bias!,
        };
        var manifest = new Dictionary<string, object>();
        foreach (var (name, t) in tensors)
        {
            manifest[name] = ReferenceExport.WriteTensor(dir, name, t);
        }

        var options = new Dictionary<string, object>
        {
            ["temperature"] = o.Temperature,
            ["same_side_form"] = o.SameSideForm.ToString(),
            ["softmax_weight"] = o.SoftmaxWeight,
            ["logistic_weight"] = o.LogisticWeight,
            ["lambda"] = o.Lambda,
            ["weight_ui"] = o.WeightUI,
            ["weight_uu"] = o.WeightUU,
            ["weight_ii"] = o.WeightII,
            ["uses_ui"] = o.UsesUI,
        };
        File.WriteAllText(Path.Combine(dir, "manifest.json"), JsonSerializer.Serialize(new { tensors = manifest, options }));
    }

    private static Dictionary<string, double> RunReference(string dir)
    {
        var script = Path.Combine(PythonTorch.RepoRoot(), "bench", "reference", "mic_loss.py");
        using var p = Process.Start(new ProcessStartInfo("/usr/bin/python3") { ArgumentList = { script, dir }, RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "the reference did not finish in 2 minutes");
        Assert.True(p.ExitCode == 0, $"mic_loss.py failed: {stderr.Result}");
        return JsonSerializer.Deserialize<Dictionary<string, double>>(stdout.Result.Trim().Split('\n')[^1])!;
    }
}
