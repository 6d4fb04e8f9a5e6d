using MIC.Streaming.Model.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Training;

/// <summary>
/// Growable embedding tables for a live stream: when new items, categories or user-field values
/// appear, a model with larger tables is built for the new <see cref="FeatureTables"/> and every
/// parameter is copied from the old model. A table that grew keeps its old rows (row r is still
/// id r: vocabularies only append) and its new rows keep their fresh Xavier initialisation.
/// <para>Memory cost of the choice (vs hashing into a fixed table): exact rows, no collisions, and
/// per id D floats of weights plus, while training, D each for the gradient and Adam's two moments:
/// 4·D·4 bytes = 2 KiB per id at D = 128 (1 M items ≈ 2 GiB on the trainer; serving silos hold
/// only the weights, 512 B per id).</para>
/// </summary>
public static class ModelGrowth
{
    /// <summary>True when <paramref name="next"/> has more ids in some table than <paramref name="current"/>.</summary>
    public static bool NeedsGrowth(FeatureTables current, FeatureTables next)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(next);
        return next.ItemCount != current.ItemCount || next.CategoryCount != current.CategoryCount
            || next.AttributeCount != current.AttributeCount || next.AttributeSlots != current.AttributeSlots
            || !next.UserFieldCardinalities.SequenceEqual(current.UserFieldCardinalities);
    }

    /// <summary>A new model for <paramref name="tables"/> holding every weight of <paramref name="model"/>.</summary>
    public static MicModel Grow(MicModel model, FeatureTables tables)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tables);
        var grown = Build(tables, model);
        var old = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (torch.no_grad())
        {
            foreach (var (name, target) in grown.named_parameters())
            {
                if (!old.TryGetValue(name, out var source))
                {
                    continue;
                }

                var src = source.to(target.device);
                if (src.shape.SequenceEqual(target.shape))
                {
                    target.copy_(src);
                }
                else if (src.dim() == target.dim() && src.shape[0] <= target.shape[0] && src.shape.Skip(1).SequenceEqual(target.shape.Skip(1)))
                {
                    target.narrow(0, 0, src.shape[0]).copy_(src);
                }
                else
                {
                    throw new InvalidOperationException($"Cannot grow parameter {name} from [{string.Join(",", src.shape)}] to [{string.Join(",", target.shape)}]: only the row count of a table may grow.");
                }
            }
        }

        grown.to(TorchRuntime.Device);
        return grown;
    }

    private static MicModel Build(FeatureTables tables, MicModel like)
    {
        var options = like.Encoder.Options;
        var name = EncoderRegistry.NameOf(like.Encoder);
        return new MicModel(EncoderRegistry.Create(name, tables, options), like.Options);
    }
}
