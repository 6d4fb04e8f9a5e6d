using System.Runtime.InteropServices;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using MIC.Streaming.Model.Encoders;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MIC.Streaming.Model;

/// <summary>
/// The user tower of the pooled-fields encoders (DSSM, YouTubeDNN), ComiRec-SA and ComiRec-DR, and
/// MIC's user head, run for one user in managed code over the model's own weight tensors, read in place. Serving encodes one user
/// per request, and through libtorch that is ~25 tiny ops (lookups, a unique, a bmm, a cat, four
/// linear layers) whose per-op dispatch dominates: the serving profile at 1,000 req/s put 17 % of
/// the process's CPU in libtorch for it. Same arithmetic as the eval-mode libtorch tower (dropout
/// is the identity in eval), equal to it up to float rounding (tested):
/// <code>
/// item(t)  = id[t] + category[categoryOf[t]] + mean of attribute[a] over t's non-zero attribute tokens a
/// pooled   = mean of item(t) over the known history items (the last maxLen), 0 when there are none
/// own      = W2 · relu(W1 · concat(pooled, userField_1[f_1], …) + b1) + b2
/// ComiRec-SA instead: h_l = item(t_l) over the last maxLen positions (padding: token 0), interests
/// own_k = Σ_l softmax_l(W2 · tanh(W1 · (h_l + P_l) + b1) + b2)_k · h_l, padding masked out
/// ComiRec-DR instead: Ŝ_kl = (W · h_l)[k], b ~ N(0, 1) [K, maxLen], 3 times: c_kl = softmax_k(b_·l) on
/// known positions, own_k = squash(Σ_l c_kl Ŝ_kl), b_kl += Ŝ_kl · own_k (not after the last)
/// relevance = head(own) when the model serves a shared space, else own (per interest)
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
    private readonly Dense? _hidden;
    private readonly Dense? _output;
    private readonly Tensor? _positions;
    private readonly Dense? _attentionHidden;
    private readonly Dense? _attentionScores;
    private readonly Dense? _routing;
    private readonly int _routingIterations;
    private readonly bool _randomRoutingStart;
    private readonly Dense? _headHidden;
    private readonly Dense? _headOutput;
    private readonly int _maxLen;

    /// <summary>Scratch vectors up to this many floats live on the stack (sizes are configuration).</summary>
    private const int StackLimit = 2048;

    /// <summary>Which user tower the encoder has: decided once, by <see cref="TryCreate"/>.</summary>
    private enum TowerKind
    {
        PooledFields,
        SelfAttentive,
        Routing,
    }

    private ManagedUserTower(MicModel model, TowerKind kind, int maxLen)
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
        switch (kind)
        {
            case TowerKind.PooledFields:
                var linears = ((IPooledFieldsUserTower)encoder).UserMlp.children().OfType<Linear>().ToArray();
                _hidden = new Dense(linears[0]);
                _output = new Dense(linears[1]);
                break;
            case TowerKind.SelfAttentive:
                var attentive = (ISelfAttentiveUserTower)encoder;
                _positions = attentive.Positions;
                _attentionHidden = new Dense(attentive.W1);
                _attentionScores = new Dense(attentive.W2);
                break;
            case TowerKind.Routing:
                var routing = (IRoutingUserTower)encoder;
                _routing = new Dense(routing.Mapping);
                _routingIterations = routing.RoutingIterations;
                _randomRoutingStart = routing.RandomStart;
                break;
        }

        Interests = encoder.Interests;
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

    /// <summary>User vectors per user (K; 1 for the pooled-fields towers).</summary>
    public int Interests { get; }

    /// <summary>User field tokens <see cref="Encode"/> takes (0 for ComiRec, which uses none).</summary>
    public int UserFieldCount => _userFields.Length;

    /// <summary>Items the model knows: dense ids 0 … ItemCount − 1 (token = id + 1).</summary>
    public int ItemCount { get; }

    /// <summary>Initial routing logits <see cref="Encode"/> takes ([K, maxLen], right-aligned): ComiRec-DR only, else 0.</summary>
    public int RoutingLogitCount => _routing is null ? 0 : Interests * _maxLen;

    /// <summary>
    /// The managed tower of <paramref name="model"/>, or null when its encoder is none of the towers
    /// above, or its weights are not plain float tensors in CPU memory (CUDA): those use libtorch.
    /// </summary>
    public static ManagedUserTower? TryCreate(MicModel model, int maxLen)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLen, 1);
        Tensor?[] tower;
        TowerKind kind;
        if (model.Encoder is IPooledFieldsUserTower pooled && pooled.UserMlp.children().OfType<Linear>().Count() == 2)
        {
            (kind, tower) = (TowerKind.PooledFields, [.. pooled.UserMlp.children().OfType<Linear>().SelectMany(l => new[] { l.weight, l.bias })]);
        }
        else if (model.Encoder is ISelfAttentiveUserTower attentive && attentive.Positions.shape[0] >= maxLen)
        {
            (kind, tower) = (TowerKind.SelfAttentive, [attentive.Positions, attentive.W1.weight, attentive.W1.bias, attentive.W2.weight, attentive.W2.bias]);
        }
        else if (model.Encoder is IRoutingUserTower routing && routing.Mapping.bias is null)
        {
            (kind, tower) = (TowerKind.Routing, [routing.Mapping.weight]);
        }
        else
        {
            return null;
        }

        var items = model.Encoder.ItemEmbedding;
        Tensor?[] floats = [items.IdTable.weight, items.CategoryTable?.weight, items.AttributeTable?.weight,
            .. model.Encoder.UserFieldTables.Select(e => (Tensor?)e.weight), .. tower,
            model.UserHead.Hidden.weight, model.UserHead.Hidden.bias, model.UserHead.Output.weight, model.UserHead.Output.bias];
        return floats.All(t => t is null || Readable(t, ScalarType.Float32))
            && Readable(items.CategoryOf, ScalarType.Int64) && Readable(items.AttributesOf, ScalarType.Int64)
            ? new ManagedUserTower(model, kind, maxLen)
            : null;
    }

    /// <summary>
    /// Encodes one user: <paramref name="history"/> = dense item ids, oldest first (the last maxLen are
    /// read; ids the model does not know count as padding); <paramref name="userFieldTokens"/> = the
    /// user's <see cref="UserFieldCount"/> field tokens (0 = unknown). Writes the own-space and
    /// relevance-space vectors: <see cref="Interests"/> × D floats each, interest-major.
    /// <paramref name="routingLogits"/>: ComiRec-DR's initial routing logits (<see cref="RoutingLogitCount"/>
    /// floats); empty starts as the libtorch tower does: zeros, or N(0, 1) draws when the model was
    /// trained with <see cref="Encoders.EncoderOptions.RandomRoutingStart"/> (its vectors then vary a little between calls).
    /// </summary>
    public void Encode(ReadOnlySpan<int> history, ReadOnlySpan<long> userFieldTokens, Span<float> own, Span<float> relevance, ReadOnlySpan<float> routingLogits = default)
    {
        var d = Dimension;
        if (userFieldTokens.Length != _userFields.Length)
        {
            throw new ArgumentException($"Expected {_userFields.Length} user field tokens, got {userFieldTokens.Length}.", nameof(userFieldTokens));
        }

        if (own.Length != Interests * d || relevance.Length != Interests * d)
        {
            throw new ArgumentException($"Output vectors must have length {Interests} × {d}.");
        }

        var recent = history[Math.Max(0, history.Length - _maxLen)..];
        if (_hidden is { } hiddenLayer && _output is { } outputLayer)
        {
            var inputLength = (1 + _userFields.Length) * d;
            Span<float> input = inputLength <= StackLimit ? stackalloc float[inputLength] : new float[inputLength];
            PoolHistory(recent, input[..d]);
            for (var f = 0; f < _userFields.Length; f++)
            {
                Floats(_userFields[f]).Slice((int)userFieldTokens[f] * d, d).CopyTo(input.Slice((1 + f) * d, d));
            }

            Span<float> hidden = hiddenLayer.Out <= StackLimit ? stackalloc float[hiddenLayer.Out] : new float[hiddenLayer.Out];
            hiddenLayer.Forward(input, hidden, Activation.Relu);
            outputLayer.Forward(hidden, own, Activation.None);
        }
        else if (_routing is not null)
        {
            if (!routingLogits.IsEmpty && routingLogits.Length != RoutingLogitCount)
            {
                throw new ArgumentException($"Expected {RoutingLogitCount} routing logits, got {routingLogits.Length}.", nameof(routingLogits));
            }

            Route(recent, own, routingLogits);
        }
        else
        {
            SelfAttention(recent, own);
        }

        var headWidth = _headHidden?.Out ?? 0;
        Span<float> head = headWidth <= StackLimit ? stackalloc float[headWidth] : new float[headWidth];
        for (var k = 0; k < Interests; k++)
        {
            var ownK = own.Slice(k * d, d);
            var relK = relevance.Slice(k * d, d);
            if (_headHidden is { } headHidden && _headOutput is { } headOutput)
            {
                headHidden.Forward(ownK, head, Activation.Relu);
                headOutput.Forward(head, relK, Activation.None);
            }
            else
            {
                ownK.CopyTo(relK);
            }
        }
    }

    /// <summary>ComiRec-SA: K attention-weighted sums of the right-aligned history (maxLen positions, padding masked).</summary>
    private void SelfAttention(ReadOnlySpan<int> recent, Span<float> interests)
    {
        var d = Dimension;
        var k = Interests;
        var hiddenLayer = _attentionHidden!;
        var scoreLayer = _attentionScores!;
        var embedded = new float[_maxLen * d];   // h_l, right-aligned
        var scores = new float[k * _maxLen];     // [K, L]
        var positions = Floats(_positions!);
        var firstPosition = (int)_positions!.shape[0] - _maxLen;
        Span<float> withPosition = d <= StackLimit ? stackalloc float[d] : new float[d];
        Span<float> hidden = hiddenLayer.Out <= StackLimit ? stackalloc float[hiddenLayer.Out] : new float[hiddenLayer.Out];
        Span<float> score = stackalloc float[k];
        var offset = _maxLen - recent.Length;
        for (var l = 0; l < _maxLen; l++)
        {
            var item = l < offset ? -1 : recent[l - offset];
            var known = (uint)item < (uint)ItemCount;
            var h = embedded.AsSpan(l * d, d);
            ItemVector(known ? item + 1 : 0, h); // padding embeds token 0, as the libtorch tower does
            TensorPrimitives.Add(h, positions.Slice((firstPosition + l) * d, d), withPosition);
            hiddenLayer.Forward(withPosition, hidden, Activation.Tanh);
            scoreLayer.Forward(hidden, score, Activation.None);
            for (var j = 0; j < k; j++)
            {
                scores[(j * _maxLen) + l] = known ? score[j] : -1e9f;
            }
        }

        interests.Clear();
        for (var j = 0; j < k; j++)
        {
            var row = scores.AsSpan(j * _maxLen, _maxLen);
            TensorPrimitives.SoftMax(row, row);
            var interest = interests.Slice(j * d, d);
            for (var l = 0; l < _maxLen; l++)
            {
                if (row[l] != 0f)
                {
                    TensorPrimitives.MultiplyAdd(embedded.AsSpan(l * d, d), row[l], interest, interest);
                }
            }
        }
    }

    /// <summary>ComiRec-DR: dynamic routing of the right-aligned history into K capsules (unknown items and padding take no part).</summary>
    private void Route(ReadOnlySpan<int> recent, Span<float> capsules, ReadOnlySpan<float> initialLogits)
    {
        var (d, k, len) = (Dimension, Interests, _maxLen);
        // Ŝ, [L, K, D]: position-major, as W·h_l comes out (40 KB at L 20, K 4, D 128: pooled, one per query).
        var rented = System.Buffers.ArrayPool<float>.Shared.Rent(len * k * d);
        try
        {
            RouteInto(recent, capsules, initialLogits, rented.AsSpan(0, len * k * d));
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(rented);
        }
    }

    private void RouteInto(ReadOnlySpan<int> recent, Span<float> capsules, ReadOnlySpan<float> initialLogits, Span<float> mapped)
    {
        var d = Dimension;
        var k = Interests;
        var len = _maxLen;
        var mapping = _routing!;
        Span<float> logits = k * len <= StackLimit ? stackalloc float[k * len] : new float[k * len]; // b, [K, L]
        Span<bool> known = len <= StackLimit ? stackalloc bool[len] : new bool[len];
        Span<float> h = d <= StackLimit ? stackalloc float[d] : new float[d];
        var offset = len - recent.Length;
        for (var l = 0; l < len; l++)
        {
            var item = l < offset ? -1 : recent[l - offset];
            known[l] = (uint)item < (uint)ItemCount;
            if (known[l])
            {
                ItemVector(item + 1, h);
                mapping.Forward(h, mapped.Slice(l * k * d, k * d), Activation.None);
            }
        }

        if (initialLogits.IsEmpty)
        {
            if (_randomRoutingStart)
            {
                StandardNormal(logits);
            }
            else
            {
                logits.Clear();
            }
        }
        else
        {
            initialLogits.CopyTo(logits);
        }

        Span<float> coupling = stackalloc float[k];
        for (var it = 0; it < _routingIterations; it++)
        {
            capsules.Clear();
            for (var l = 0; l < len; l++)
            {
                if (!known[l])
                {
                    continue;
                }

                for (var j = 0; j < k; j++)
                {
                    coupling[j] = logits[(j * len) + l];
                }

                TensorPrimitives.SoftMax(coupling, coupling); // over interests, per position
                for (var j = 0; j < k; j++)
                {
                    var capsule = capsules.Slice(j * d, d);
                    TensorPrimitives.MultiplyAdd(mapped.Slice(((l * k) + j) * d, d), coupling[j], capsule, capsule);
                }
            }

            for (var j = 0; j < k; j++)
            {
                var capsule = capsules.Slice(j * d, d);
                var norm2 = TensorPrimitives.Dot(capsule, capsule);
                TensorPrimitives.Multiply(capsule, norm2 / (1 + norm2) / MathF.Sqrt(norm2 + 1e-9f), capsule); // squash
            }

            if (it < _routingIterations - 1)
            {
                for (var l = 0; l < len; l++)
                {
                    for (var j = 0; known[l] && j < k; j++)
                    {
                        logits[(j * len) + l] += TensorPrimitives.Dot(mapped.Slice(((l * k) + j) * d, d), capsules.Slice(j * d, d));
                    }
                }
            }
        }
    }

    /// <summary>Fills <paramref name="values"/> with N(0, 1) draws (Box–Muller).</summary>
    private static void StandardNormal(Span<float> values)
    {
        var random = Random.Shared;
        for (var i = 0; i < values.Length; i += 2)
        {
            var radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
            var angle = 2 * Math.PI * random.NextDouble();
            values[i] = (float)(radius * Math.Cos(angle));
            if (i + 1 < values.Length)
            {
                values[i + 1] = (float)(radius * Math.Sin(angle));
            }
        }
    }

    /// <summary>An item token's vector: the sum of its fields (id, category, mean of its attributes).</summary>
    private void ItemVector(int token, Span<float> vector)
    {
        var d = Dimension;
        Floats(_id).Slice(token * d, d).CopyTo(vector);
        if (_category is not null)
        {
            TensorPrimitives.Add(vector, Floats(_category).Slice((int)Longs(_categoryOf)[token] * d, d), vector);
        }

        if (_attributes is not null)
        {
            var attributes = Floats(_attributes);
            Span<float> mean = d <= StackLimit ? stackalloc float[d] : new float[d];
            mean.Clear();
            var present = 0;
            foreach (var a in Longs(_attributesOf).Slice(token * _slots, _slots))
            {
                if (a > 0)
                {
                    TensorPrimitives.Add(mean, attributes.Slice((int)a * d, d), mean);
                    present++;
                }
            }

            if (present > 0)
            {
                TensorPrimitives.Divide(mean, present, mean);
                TensorPrimitives.Add(vector, mean, vector);
            }
        }
    }

    /// <summary>Mean of the known history items' vectors into <paramref name="pooled"/> (0 when none is known).</summary>
    private void PoolHistory(ReadOnlySpan<int> history, Span<float> pooled)
    {
        var d = Dimension;
        pooled.Clear();
        Span<float> vector = d <= StackLimit ? stackalloc float[d] : new float[d];
        var count = 0;
        foreach (var item in history)
        {
            if ((uint)item >= (uint)ItemCount)
            {
                continue;
            }

            ItemVector(item + 1, vector);
            TensorPrimitives.Add(pooled, vector, pooled);
            count++;
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

    private enum Activation
    {
        None,
        Relu,
        Tanh,
    }

    /// <summary>y = act(W x + b) ([out, in] row-major, as torch.nn.Linear stores it).</summary>
    private sealed class Dense(Linear layer)
    {
        private readonly Tensor _weight = layer.weight!;
        private readonly Tensor? _bias = layer.bias;

        public int In { get; } = (int)layer.weight!.shape[1];

        public int Out { get; } = (int)layer.weight!.shape[0];

        public void Forward(ReadOnlySpan<float> x, Span<float> y, Activation activation)
        {
            var w = Floats(_weight);
            var b = _bias is null ? default : Floats(_bias);
            for (var o = 0; o < Out; o++)
            {
                y[o] = TensorPrimitives.Dot(w.Slice(o * In, In), x) + (b.IsEmpty ? 0f : b[o]);
            }

            if (activation == Activation.Relu)
            {
                TensorPrimitives.Max(y[..Out], 0f, y[..Out]);
            }
            else if (activation == Activation.Tanh)
            {
                TensorPrimitives.Tanh(y[..Out], y[..Out]);
            }
        }
    }
}
