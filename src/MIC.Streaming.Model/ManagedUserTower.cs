using System.Runtime.InteropServices;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using MIC.Streaming.Model.Encoders;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MIC.Streaming.Model;

/// <summary>
/// The user tower of the pooled-fields encoders (DSSM, YouTubeDNN) and MIC's user head, run for one
/// user in managed code over the model's own weight tensors, read in place. Serving encodes one user
/// per request, and through libtorch that is ~25 tiny ops (lookups, a unique, a bmm, a cat, four
/// linear layers) whose per-op dispatch dominates: the serving profile at 1,000 req/s put 17 % of
/// the process's CPU in libtorch for it. Same arithmetic as the eval-mode libtorch tower (dropout
/// is the identity in eval), equal to it up to float rounding (tested):
/// <code>
/// item(t)  = id[t] + category[categoryOf[t]] + mean of attribute[a] over t's non-zero attribute tokens a
/// pooled   = mean of item(t) over the known history items (the last maxLen), 0 when there are none
/// own      = W2 · relu(W1 · concat(pooled, userField_1[f_1], …) + b1) + b2
/// relevance = head(own) when the model serves a shared space, else own
/// </code>
/// Only reads tensors, so any number of threads may call <see cref="Encode"/> at once. Valid while
/// the model it was built from is alive (a serving version owns both); weights that an optimizer or a
/// checkpoint load updates in place are read as they are at each call.
/// </summary>
public sealed class ManagedUserTower
{
    private readonly Tensor _id;
    private readonly Tensor? _category;
    private readonly Tensor? _attributes;
    private readonly Tensor _categoryOf;
    private readonly Tensor _attributesOf;
    private readonly int _slots;
    private readonly Tensor[] _userFields;
    private readonly Dense _hidden;
    private readonly Dense _output;
    private readonly Dense? _headHidden;
    private readonly Dense? _headOutput;
    private readonly int _maxLen;

    /// <summary>Scratch vectors up to this many floats live on the stack (sizes are configuration).</summary>
    private const int StackLimit = 2048;

    private ManagedUserTower(MicModel model, IPooledFieldsUserTower tower, int maxLen)
    {
        var encoder = model.Encoder;
        var items = encoder.ItemEmbedding;
        _id = items.IdTable.weight!;
        _category = items.CategoryTable?.weight;
        _attributes = items.AttributeTable?.weight;
        _categoryOf = items.CategoryOf;
        _attributesOf = items.AttributesOf;
        _slots = (int)_attributesOf.shape[1];
        _userFields = [.. encoder.UserFieldTables.Select(e => (Tensor)e.weight!)];
        var linears = tower.UserMlp.children().OfType<Linear>().ToArray();
        _hidden = new Dense(linears[0]);
        _output = new Dense(linears[1]);
        if (model.UsesSharedSpace)
        {
            _headHidden = new Dense(model.UserHead.Hidden);
            _headOutput = new Dense(model.UserHead.Output);
        }

        Dimension = encoder.Dimension;
        ItemCount = (int)_id.shape[0] - 1;
        _maxLen = maxLen;
    }

    public int Dimension { get; }

    /// <summary>Items the model knows: dense ids 0 … ItemCount − 1 (token = id + 1).</summary>
    public int ItemCount { get; }

    /// <summary>
    /// The managed tower of <paramref name="model"/>, or null when its encoder is not a pooled-fields
    /// one (ComiRec), or its weights are not plain float tensors in CPU memory (CUDA): those use libtorch.
    /// </summary>
    public static ManagedUserTower? TryCreate(MicModel model, int maxLen)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLen, 1);
        if (model.Encoder is not IPooledFieldsUserTower tower || tower.UserMlp.children().OfType<Linear>().Count() != 2)
        {
            return null;
        }

        var items = model.Encoder.ItemEmbedding;
        Tensor?[] floats = [items.IdTable.weight, items.CategoryTable?.weight, items.AttributeTable?.weight,
            .. model.Encoder.UserFieldTables.Select(e => (Tensor?)e.weight),
            .. tower.UserMlp.children().OfType<Linear>().SelectMany(l => new[] { l.weight, l.bias }),
            model.UserHead.Hidden.weight, model.UserHead.Hidden.bias, model.UserHead.Output.weight, model.UserHead.Output.bias];
        return floats.All(t => t is null || Readable(t, ScalarType.Float32))
            && Readable(items.CategoryOf, ScalarType.Int64) && Readable(items.AttributesOf, ScalarType.Int64)
            ? new ManagedUserTower(model, tower, maxLen)
            : null;
    }

    /// <summary>
    /// Encodes one user: <paramref name="history"/> = dense item ids, oldest first (the last maxLen are
    /// read; ids the model does not know count as padding); <paramref name="userFieldTokens"/> = the
    /// user's field tokens (0 = unknown). Writes the own-space and relevance-space vectors (length D).
    /// </summary>
    public void Encode(ReadOnlySpan<int> history, ReadOnlySpan<long> userFieldTokens, Span<float> own, Span<float> relevance)
    {
        var d = Dimension;
        if (userFieldTokens.Length != _userFields.Length)
        {
            throw new ArgumentException($"Expected {_userFields.Length} user field tokens, got {userFieldTokens.Length}.", nameof(userFieldTokens));
        }

        if (own.Length != d || relevance.Length != d)
        {
            throw new ArgumentException($"Output vectors must have length {d}.");
        }

        var inputLength = (1 + _userFields.Length) * d;
        Span<float> input = inputLength <= StackLimit ? stackalloc float[inputLength] : new float[inputLength];
        PoolHistory(history[Math.Max(0, history.Length - _maxLen)..], input[..d]);
        for (var f = 0; f < _userFields.Length; f++)
        {
            Floats(_userFields[f]).Slice((int)userFieldTokens[f] * d, d).CopyTo(input.Slice((1 + f) * d, d));
        }

        Span<float> hidden = _hidden.Out <= StackLimit ? stackalloc float[_hidden.Out] : new float[_hidden.Out];
        _hidden.Forward(input, hidden, relu: true);
        _output.Forward(hidden, own, relu: false);
        if (_headHidden is { } headHidden && _headOutput is { } headOutput)
        {
            Span<float> head = headHidden.Out <= StackLimit ? stackalloc float[headHidden.Out] : new float[headHidden.Out];
            headHidden.Forward(own, head, relu: true);
            headOutput.Forward(head, relevance, relu: false);
        }
        else
        {
            own.CopyTo(relevance);
        }
    }

    /// <summary>Mean of the known history items' vectors (each the sum of its fields) into <paramref name="pooled"/>.</summary>
    private void PoolHistory(ReadOnlySpan<int> history, Span<float> pooled)
    {
        var d = Dimension;
        pooled.Clear();
        var id = Floats(_id);
        var category = _category is null ? default : Floats(_category);
        var attributes = _attributes is null ? default : Floats(_attributes);
        var categoryOf = Longs(_categoryOf);
        var attributesOf = Longs(_attributesOf);
        Span<float> attributeMean = d <= StackLimit ? stackalloc float[d] : new float[d];
        var count = 0;
        foreach (var item in history)
        {
            if ((uint)item >= (uint)ItemCount)
            {
                continue;
            }

            var token = item + 1;
            count++;
            TensorPrimitives.Add(pooled, id.Slice(token * d, d), pooled);
            if (_category is not null)
            {
                TensorPrimitives.Add(pooled, category.Slice((int)categoryOf[token] * d, d), pooled);
            }

            if (_attributes is not null)
            {
                attributeMean.Clear();
                var present = 0;
                foreach (var a in attributesOf.Slice(token * _slots, _slots))
                {
                    if (a > 0)
                    {
                        TensorPrimitives.Add(attributeMean, attributes.Slice((int)a * d, d), attributeMean);
                        present++;
                    }
                }

                if (present > 0)
                {
                    TensorPrimitives.Divide(attributeMean, present, attributeMean);
                    TensorPrimitives.Add(pooled, attributeMean, pooled);
                }
            }
        }

        if (count > 1)
        {
            TensorPrimitives.Divide(pooled, count, pooled);
        }
    }

    private static bool Readable(Tensor t, ScalarType type) =>
        t.device_type == TorchSharp.DeviceType.CPU && t.dtype == type && t.is_contiguous() && t.NumberOfElements * t.ElementSize <= int.MaxValue;

    // A CPU tensor's bytes are its own memory (no copy); read per call, so no pointer outlives a call.
    private static ReadOnlySpan<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    private static ReadOnlySpan<long> Longs(Tensor t) => MemoryMarshal.Cast<byte, long>(t.bytes);

    /// <summary>y = W x + b ([out, in] row-major, as torch.nn.Linear stores it), optionally ReLU.</summary>
    private sealed class Dense(Linear layer)
    {
        private readonly Tensor _weight = layer.weight!;
        private readonly Tensor? _bias = layer.bias;

        public int In { get; } = (int)layer.weight!.shape[1];

        public int Out { get; } = (int)layer.weight!.shape[0];

        public void Forward(ReadOnlySpan<float> x, Span<float> y, bool relu)
        {
            var w = Floats(_weight);
            var b = _bias is null ? default : Floats(_bias);
            for (var o = 0; o < Out; o++)
            {
                var v = TensorPrimitives.Dot(w.Slice(o * In, In), x) + (b.IsEmpty ? 0f : b[o]);
                y[o] = relu ? Math.Max(v, 0f) : v;
            }
        }
    }
}
