using MIC.Streaming.Core.Data;
using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Training;
using MIC.Streaming.Retrieval.Channels;
using MIC.Streaming.Retrieval.Index;
using TorchSharp;
using static TorchSharp.torch;

namespace MIC.Streaming.Model;

/// <summary>
/// The boundary between the model and everything else: representations leave as float arrays
/// (<see cref="EmbeddingMatrix"/>, <see cref="UserQuery"/>), computed in eval mode under no_grad
/// inside a dispose scope. No Tensor is returned.
/// </summary>
public sealed class ModelEmbeddings
{
    private const int Chunk = 2048;
    private readonly MicModel _model;
    private readonly FeatureTables _tables;
    private readonly int _maxLen;

    // Built once: it reads the model's parameter tensors in place, which optimizers and checkpoint
    // loads update in place (growth makes a new model, and with it new embeddings).
    private readonly Lazy<ManagedUserTower?> _managed;

    public ModelEmbeddings(MicModel model, FeatureTables tables, int maxLen)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _tables = tables ?? throw new ArgumentNullException(nameof(tables));
        _maxLen = maxLen;
        _managed = new Lazy<ManagedUserTower?>(() => ManagedUserTower.TryCreate(model, maxLen));
    }

    public int Dimension => _model.Encoder.Dimension;

    /// <summary>Item vectors in the own space and in the relevance space: two [I, D] matrices.</summary>
    public (EmbeddingMatrix Own, EmbeddingMatrix Relevance) Items()
    {
        var d = Dimension;
        var own = new float[_tables.ItemCount * d];
        var rel = new float[_tables.ItemCount * d];
        using var inference = InferenceMode();
        for (var start = 0; start < _tables.ItemCount; start += Chunk)
        {
            using var scope = torch.NewDisposeScope();
            var len = Math.Min(Chunk, _tables.ItemCount - start);
            var tokens = Scalars.Range(start + 1, start + len + 1, TorchRuntime.Device);
            var o = _model.ItemOwn(tokens);
            var r = _model.ItemRelevance(o);
            Copy(o, own.AsSpan(start * d, len * d));
            Copy(r, rel.AsSpan(start * d, len * d));
        }

        return (new EmbeddingMatrix(own, d), new EmbeddingMatrix(rel, d));
    }

    /// <summary>
    /// Own-space vectors (mean of the interests) of users from their histories: [users, D]; users
    /// with an empty history get a zero row.
    /// </summary>
    public EmbeddingMatrix Users(SequenceTable histories)
    {
        ArgumentNullException.ThrowIfNull(histories);
        var d = Dimension;
        var data = new float[histories.UserCount * d];
        var active = Enumerable.Range(0, histories.UserCount).Where(u => histories.Length(u) > 0).ToArray();
        var queries = Encode(active.Select(u => (ReadOnlyMemory<int>)histories.Items.AsMemory(histories.Offsets[u], histories.Length(u))).ToArray(), active);
        for (var i = 0; i < active.Length; i++)
        {
            var interests = queries[i].OwnInterests;
            var row = data.AsSpan(active[i] * d, d);
            foreach (var v in interests)
            {
                System.Numerics.Tensors.TensorPrimitives.Add(row, v, row);
            }

            System.Numerics.Tensors.TensorPrimitives.Divide(row, interests.Length, row);
        }

        return new EmbeddingMatrix(data, d);
    }

    /// <summary>Encodes query users (histories oldest first; user index for fields, −1 unknown).</summary>
    public UserQuery[] Encode(IReadOnlyList<ReadOnlyMemory<int>> histories, IReadOnlyList<int> users)
    {
        ArgumentNullException.ThrowIfNull(histories);
        ArgumentNullException.ThrowIfNull(users);
        if (histories.Count <= ManagedBatchLimit && _managed.Value is { } managed)
        {
            return EncodeManaged(managed, histories, users);
        }

        var result = new UserQuery[histories.Count];
        var d = Dimension;
        var k = _model.Encoder.Interests;
        using var inference = InferenceMode();
        foreach (var (start, hs, us, batch) in UserBatches(histories, users))
        {
            var own = _model.UserOwn(batch);                       // [B, K, D]
            var rel = _model.UserRelevance(own);                   // [B, K, D]
            var ownData = own.cpu().data<float>().ToArray();
            var relData = rel.cpu().data<float>().ToArray();
            for (var i = 0; i < hs.Length; i++)
            {
                result[start + i] = Query(ownData.AsSpan(i * k * d, k * d), relData.AsSpan(i * k * d, k * d), k, hs[i].Span, us[i]);
            }
        }

        return result;
    }

    /// <summary>
    /// Normalised entropy of a multi-interest tower's interest weights (null for K = 1 towers), mean
    /// over users: with attention over the history (ComiRec-SA), each interest's entropy over the real
    /// positions ÷ log(positions) — 1 = it reads the whole history evenly, 0 = one item (users with
    /// one item are skipped); with routing (ComiRec-DR), each real position's entropy over the K
    /// interests ÷ log K — 1 = every item feeds every interest equally, 0 = each item feeds one.
    /// </summary>
    public double? InterestEntropy(IReadOnlyList<ReadOnlyMemory<int>> histories, IReadOnlyList<int> users)
    {
        ArgumentNullException.ThrowIfNull(histories);
        ArgumentNullException.ThrowIfNull(users);
        var encoder = _model.Encoder;
        if (encoder.Interests < 2)
        {
            return null;
        }

        var overInterests = encoder.InterestWeightsSumOverInterests;
        double sum = 0;
        long count = 0;
        using var inference = InferenceMode();
        foreach (var (_, _, _, batch) in UserBatches(histories, users))
        {
            if (encoder.InterestWeights(batch) is not { } w)
            {
                return null;
            }

            var plogp = torch.where(w.gt(Scalars.Zero), w * w.clamp_min(Scalars.Of(1e-12)).log(), torch.zeros_like(w));   // [B, K, L]
            var real = batch.HistoryMask;                                                           // [B, L]
            var positions = real.sum(1);                                                            // [B]
            if (overInterests)
            {
                var h = -plogp.sum(1) / Scalars.Of(Math.Log(encoder.Interests));                               // [B, L]
                sum += (h * real).sum().item<float>();
                count += (long)positions.sum().item<float>();
            }
            else
            {
                var many = positions.gt(Scalars.One);                                                         // [B]
                var h = -plogp.sum(2) / positions.clamp_min(Scalars.Two).log().unsqueeze(1);                 // [B, K]
                sum += (h * many.unsqueeze(1)).sum().item<float>();
                count += many.sum().item<long>() * encoder.Interests;
            }
        }

        return count == 0 ? null : sum / count;
    }

    /// <summary>
    /// Up to this many users are encoded by <see cref="ManagedUserTower"/> when the encoder has one
    /// (serving: one user per query); larger batches go through libtorch, whose batched kernels win there.
    /// </summary>
    public const int ManagedBatchLimit = 16;

    private UserQuery[] EncodeManaged(ManagedUserTower tower, IReadOnlyList<ReadOnlyMemory<int>> histories, IReadOnlyList<int> users)
    {
        Span<long> fields = stackalloc long[tower.UserFieldCount];
        var d = Dimension;
        var k = tower.Interests;
        var own = new float[k * d];
        var rel = new float[k * d];
        var result = new UserQuery[histories.Count];
        for (var i = 0; i < histories.Count; i++)
        {
            UserBatchBuilder.CopyUserFields(_tables, users[i], fields);
            tower.Encode(histories[i].Span, fields, own, rel);
            result[i] = Query(own, rel, k, histories[i].Span, users[i]);
        }

        return result;
    }

    /// <summary>One user's query from its K own / relevance vectors (interest-major, K × D each).</summary>
    private UserQuery Query(ReadOnlySpan<float> own, ReadOnlySpan<float> rel, int k, ReadOnlySpan<int> history, int user)
    {
        var d = Dimension;
        var ownK = new float[k][];
        var relK = new float[k][];
        for (var j = 0; j < k; j++)
        {
            ownK[j] = own.Slice(j * d, d).ToArray();
            relK[j] = rel.Slice(j * d, d).ToArray();
        }

        return new UserQuery(ownK, relK, history[Math.Max(0, history.Length - _maxLen)..].ToArray(), user >= 0 ? user : null);
    }

    /// <summary>Exact-index retrieval spaces of this model over the given user histories.</summary>
    public RetrievalSpaces BuildExactSpaces(SequenceTable userHistories)
    {
        var (own, rel) = Items();
        return RetrievalSpaces.BuildExact(rel, own, Users(userHistories), userHistories);
    }

    /// <summary>
    /// A request's users in chunks of <see cref="Chunk"/>, each built into one batch inside its own
    /// dispose scope: the tensors the caller makes from a chunk are freed when it moves to the next
    /// chunk or leaves the loop.
    /// </summary>
    private IEnumerable<(int Start, ReadOnlyMemory<int>[] Histories, int[] Users, UserBatch Batch)> UserBatches(IReadOnlyList<ReadOnlyMemory<int>> histories, IReadOnlyList<int> users)
    {
        for (var start = 0; start < histories.Count; start += Chunk)
        {
            using var scope = torch.NewDisposeScope();
            var len = Math.Min(Chunk, histories.Count - start);
            var hs = new ReadOnlyMemory<int>[len];
            var us = new int[len];
            for (var i = 0; i < len; i++)
            {
                hs[i] = histories[start + i];
                us[i] = users[start + i];
            }

            yield return (start, hs, us, UserBatchBuilder.Build(hs, us, _tables, _maxLen, TorchRuntime.Device));
        }
    }

    /// <summary>Eval mode under no_grad until disposed; the model's training flag is restored then.</summary>
    private InferenceScope InferenceMode() => new(_model);

    private readonly struct InferenceScope : IDisposable
    {
        private readonly MicModel _model;
        private readonly bool _wasTraining;
        private readonly IDisposable _noGrad;

        public InferenceScope(MicModel model)
        {
            _model = model;
            _wasTraining = model.training;
            model.eval();
            _noGrad = torch.no_grad();
        }

        public void Dispose()
        {
            _noGrad.Dispose();
            _model.train(_wasTraining);
        }
    }

    private static void Copy(Tensor t, Span<float> destination) =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.cpu().contiguous().bytes).CopyTo(destination);
}
