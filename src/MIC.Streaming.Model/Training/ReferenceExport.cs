using System.Text.Json;
using MIC.Streaming.Model.Encoders;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Training;

/// <summary>
/// Writes what bench/reference/mic_train_step.py needs to time the same DSSM(+MIC) training step in
/// PyTorch: the model's sizes and MIC options (config.json), the item lookup tables, and real
/// batches built by this trainer (raw little-endian tensors + a manifest). The reference builds the
/// same architecture from these sizes; weights are its own (speed does not depend on their values).
/// </summary>
public static class ReferenceExport
{
    /// <summary>
    /// Writes <paramref name="t"/> as <c>&lt;name&gt;.bin</c> (raw little-endian int64 or float32, CPU copy)
    /// and returns its manifest entry (dtype, shape). An empty tensor (e.g. [B, 0] user fields) is an empty file.
    /// </summary>
    public static object WriteTensor(string dir, string name, Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        using var cpu = t.detach().cpu();
        var int64 = cpu.dtype == ScalarType.Int64;
        byte[] bytes;
        if (cpu.numel() == 0)
        {
            bytes = [];
        }
        else if (int64)
        {
            var data = cpu.data<long>().ToArray();
            bytes = new byte[data.Length * 8];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        }
        else
        {
            using var f32 = cpu.to(ScalarType.Float32);
            var data = f32.data<float>().ToArray();
            bytes = new byte[data.Length * 4];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        }

        File.WriteAllBytes(Path.Combine(dir, name + ".bin"), bytes);
        return new { dtype = int64 ? "int64" : "float32", shape = cpu.shape };
    }

    public static void Write(string dir, MicTrainer trainer, TrainingExamples examples, IReadOnlyList<int[]> batches, int steps, int threads)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(batches);
        if (trainer.Model.Encoder is not Dssm)
        {
            throw new ArgumentException("The PyTorch reference implements DSSM only.", nameof(trainer));
        }

        Directory.CreateDirectory(dir);
        var tables = trainer.Tables;
        var o = trainer.Options;
        var tensors = new Dictionary<string, object>();
        void Save(string name, Tensor t) => tensors[name] = WriteTensor(dir, name, t);

        using (var scope = NewDisposeScope())
        {
            Save("category_of", tensor(tables.ItemCategoryTokens));
            Save("attributes_of", tensor(tables.ItemAttributeTokens).reshape(tables.ItemCount + 1, Math.Max(1, tables.AttributeSlots)));
            for (var b = 0; b < batches.Count; b++)
            {
                var batch = trainer.BuildBatch(examples, batches[b]);
                Save($"b{b}_history", batch.User.History);
                Save($"b{b}_mask", batch.User.HistoryMask);
                Save($"b{b}_user_fields", batch.User.UserFields);
                Save($"b{b}_target_ids", batch.TargetIds);
                Save($"b{b}_user_rows", batch.UserRows);
            }
        }

        var (userRows, itemRows) = trainer.SupportRows;
        var config = new
        {
            batches = batches.Count,
            steps,
            threads,
            dimension = o.EncoderOptions.Dimension,
            hidden = o.EncoderOptions.Hidden,
            dropout = o.EncoderOptions.Dropout,
            item_count = tables.ItemCount,
            category_count = tables.CategoryCount,
            attribute_count = tables.AttributeCount,
            attribute_slots = tables.AttributeSlots,
            user_field_cardinalities = tables.UserFieldCardinalities,
            learning_rate = o.LearningRate,
            mic = new
            {
                uses_ui = o.Mic.UsesUI && o.Mic.Lambda > 0 && o.Mic.WeightUI > 0,
                uses_uu = o.Mic.UsesUU && o.Mic.Lambda > 0 && o.Mic.WeightUU > 0,
                uses_ii = o.Mic.UsesII && o.Mic.Lambda > 0 && o.Mic.WeightII > 0,
                temperature = o.Mic.Temperature,
                lambda = o.Mic.Lambda,
                weight_ui = o.Mic.WeightUI,
                weight_uu = o.Mic.WeightUU,
                weight_ii = o.Mic.WeightII,
                softmax_weight = o.Mic.SoftmaxWeight,
                sampled_negatives = o.Mic.SampledNegatives,
                logistic_weight = o.Mic.LogisticWeight,
                same_side_form = o.Mic.SameSideForm.ToString(),
                masked_fields = o.Mic.MaskedFields,
                perturb_dropout = o.Mic.PerturbDropout,
                history_drop_rate = o.Mic.HistoryDropRate,
                support_neighbours = o.Mic.SupportNeighbours,
                user_bank_rows = userRows,
                item_bank_rows = itemRows,
            },
        };
        File.WriteAllText(Path.Combine(dir, "manifest.json"), JsonSerializer.Serialize(new { tensors, config }));
    }
}
