using System.Text.Json.Serialization;
using MIC.Streaming.Model.Mic;
using MIC.Streaming.Model.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Encoders;

/// <summary>Sizes an encoder is built with.</summary>
public sealed record EncoderOptions
{
    public int Dimension { get; init; } = 128;

    public int Hidden { get; init; } = 256;

    public double Dropout { get; init; } = 0.2;

    /// <summary>K interests for multi-interest encoders (ComiRec).</summary>
    public int Interests { get; init; } = 4;

    /// <summary>History length the encoder sees (positions for ComiRec-SA).</summary>
    public int MaxLen { get; init; } = 20;

    /// <summary>
    /// ComiRec-DR: start routing from N(0, 1) logits drawn on every call (MIND's start; what this
    /// project used before) instead of zeros (ComiRec's public code for per-interest mappings).
    /// The random start makes a user's vectors vary between calls, evaluation included.
    /// </summary>
    public bool RandomRoutingStart { get; init; }

    /// <summary>
    /// The user id as a categorical user field (train users only; held-out users embed it as padding),
    /// maskable like any field. Encoders with user fields (DSSM, YouTubeDNN) read it. An offline
    /// option: the tables must be built with <see cref="FeatureTables.For"/>, and checkpoints with it
    /// cannot be served. Left out of the JSON when off, so older run keys stay the same.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool UserIdField { get; init; }

    /// <summary>
    /// Slots of the items' interaction-record field (0 = none): up to this many of an item's train
    /// users, mean-embedded as one more item-tower field (<see cref="ItemRecordEmbedding"/>). Offline, as <see cref="UserIdField"/>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int ItemUserSlots { get; init; }

    /// <summary>Whether the options need input fields built from the train split (see <see cref="FeatureTables.For"/>).</summary>
    [JsonIgnore]
    public bool NeedsTrainFields => UserIdField || ItemUserSlots > 0;
}

/// <summary>
/// The encoder plug-in contract: a user tower (history + user fields → K vectors in the user's own
/// space) and an item tower (item token → one vector in the item's own space). MIC is built on top
/// of any implementation without knowing which.
/// <para>To add a fifth encoder: 1. subclass this in <c>Encoders/&lt;Name&gt;.cs</c>, embedding items
/// with <see cref="ItemFieldEmbedding"/> and honouring the optional <see cref="FieldMaskEmbedding"/>
/// (mask fields/history in the perturbed pass, never in the main pass); 2. add it to
/// <see cref="EncoderRegistry"/>; 3. add it to the shape/gradient tests' encoder list; 4. run
/// <c>mic bench train</c> and record it in docs/BENCHMARKS.md.</para>
/// </summary>
public abstract class TwoTowerEncoder : nn.Module
{
    /// <param name="name">Module name (checkpoint key prefix).</param>
    /// <param name="tables">The input fields to embed.</param>
    /// <param name="options">Sizes.</param>
    /// <param name="useUserFields">Whether the user tower embeds categorical user fields (ComiRec does not).</param>
    protected TwoTowerEncoder(string name, FeatureTables tables, EncoderOptions options, bool useUserFields = true)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Items = new ItemFieldEmbedding(tables, options.Dimension);
        UserFieldEmbeddings = nn.ModuleList((useUserFields ? tables.UserFieldCardinalities : []).Select(c =>
        {
            var e = nn.Embedding(c, options.Dimension, padding_idx: 0);
            ModelInit.XavierEmbedding(e);
            return (nn.Module<Tensor, Tensor>)e;
        }).ToArray());

        // Base-class members are auto-properties, invisible to a derived RegisterComponents().
        register_module("items", Items);
        register_module("user_fields", UserFieldEmbeddings);
        if (tables.ItemUserSlots > 0)
        {
            ItemRecord = new ItemRecordEmbedding(tables, options.Dimension);
            register_module("item_record", ItemRecord);
        }
    }

    public EncoderOptions Options { get; }

    public int Dimension => Options.Dimension;

    /// <summary>Items the item tower knows (dense ids 0 … ItemCount − 1, tokens id + 1).</summary>
    public long ItemCount => Items.ItemCount;

    /// <summary>Number of user vectors K (1 for single-interest encoders).</summary>
    public virtual int Interests => 1;

    protected ItemFieldEmbedding Items { get; }

    /// <summary>The items' interaction-record field, when the tables have one (an extra item-tower field).</summary>
    protected ItemRecordEmbedding? ItemRecord { get; }

    /// <summary>Fields of the item tower: the item's own fields and the record field if any.</summary>
    public int ItemFieldCount => Items.FieldCount + (ItemRecord is null ? 0 : 1);

    /// <summary>The item field tables (read by <see cref="ManagedUserTower"/>).</summary>
    internal ItemFieldEmbedding ItemEmbedding => Items;

    /// <summary>The user field tables, one per user field (read by <see cref="ManagedUserTower"/>).</summary>
    internal IEnumerable<Embedding> UserFieldTables => UserFieldEmbeddings.Cast<Embedding>();

    protected ModuleList<nn.Module<Tensor, Tensor>> UserFieldEmbeddings { get; }

    /// <summary>User tower: → [B, K, D]. With <paramref name="perturb"/>, a perturbed view.</summary>
    public abstract Tensor EncodeUser(UserBatch batch, FieldMaskEmbedding? perturb = null);

    /// <summary>
    /// How a multi-interest user tower spreads each interest over the history: [B, K, L] weights on real
    /// positions (0 on padding), or null for single-interest towers. ComiRec-SA: each interest's
    /// attention over the history (sums to 1 over L). ComiRec-DR: the final routing coefficients
    /// (each item's softmax over the K interests). Read by the diversity diagnostics, never by training.
    /// </summary>
    public virtual Tensor? InterestWeights(UserBatch batch) => null;

    /// <summary>True when <see cref="InterestWeights"/> sum to 1 over the interests (routing), false when over the history (attention).</summary>
    public virtual bool InterestWeightsSumOverInterests => false;

    /// <summary>
    /// Item tower: item tokens [N] → [N, D]. With <paramref name="perturb"/>, a perturbed view.
    /// <paramref name="fields"/> ([N, F, D], from <see cref="EmbedItemFields"/>) skips re-embedding.
    /// </summary>
    public abstract Tensor EncodeItem(Tensor itemTokens, FieldMaskEmbedding? perturb = null, Tensor? fields = null);

    /// <summary>Item tokens [N] → the item tower's field embeddings [N, F, D] (the record field last).</summary>
    public Tensor EmbedItemFields(Tensor itemTokens) => ItemRecord is null ? Items.forward(itemTokens)
        : torch.cat([Items.forward(itemTokens), ItemRecord.forward(itemTokens).unsqueeze(1)], 1);

    /// <summary>History items embedded as the sum of their fields: [B, L, D].</summary>
    public Tensor EmbedHistory(Tensor history) => Items.EmbedSequence(history);

    /// <summary>The batch's embedded history, computed unless the batch carries it.</summary>
    protected Tensor EmbeddedHistoryOf(UserBatch batch) => batch.EmbeddedHistory ?? EmbedHistory(batch.History);

    /// <summary>Masked mean of the batch's embedded history: mask [B, L] → [B, D] (one batched product).</summary>
    protected Tensor MeanPoolHistory(UserBatch batch, Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var weights = mask / mask.sum(1, keepdim: true).clamp_min(Scalars.One);                  // [B, L]
        return torch.bmm(weights.unsqueeze(1), EmbeddedHistoryOf(batch)).squeeze(1);
    }

    /// <summary>
    /// The user's fields as [B, 1 + Fu, D]: the mean-pooled history (one field) and the categorical
    /// user fields; in a perturbed view the history loses items and the fields are masked.
    /// </summary>
    protected Tensor PooledUserFields(UserBatch batch, FieldMaskEmbedding? perturb)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var mask = perturb?.DropHistory(batch.HistoryMask) ?? batch.HistoryMask;       // [B, L]
        var history = MeanPoolHistory(batch, mask);                            // [B, D]
        var fields = cat([history.unsqueeze(1), EmbedUserFields(batch.UserFields)], 1); // [B, 1+Fu, D]
        return perturb is null ? fields : perturb.Perturb(fields);
    }

    /// <summary>
    /// The history as a sequence: embedded items [B, L, D] and mask [B, L]; in a perturbed view items
    /// are dropped from the mask and dropout is applied to the embeddings.
    /// </summary>
    protected (Tensor Embedded, Tensor Mask) SequenceInput(UserBatch batch, FieldMaskEmbedding? perturb)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var mask = perturb?.DropHistory(batch.HistoryMask) ?? batch.HistoryMask;
        var h = EmbeddedHistoryOf(batch);
        return (perturb is null ? h : nn.functional.dropout(h, perturb.DropoutRate, training: true), mask);
    }

    /// <summary>Item fields [N, F, D] (given or embedded), perturbed in a perturbed view.</summary>
    protected Tensor ItemFields(Tensor itemTokens, FieldMaskEmbedding? perturb, Tensor? fields)
    {
        fields ??= EmbedItemFields(itemTokens);
        return perturb is null ? fields : perturb.Perturb(fields);
    }

    /// <summary>Masked mean of history embeddings [B, L, D] with mask [B, L] → [B, D].</summary>
    protected static Tensor MeanPool(Tensor embedded, Tensor mask)
    {
        var m = mask.unsqueeze(-1);
        return (embedded * m).sum(1) / m.sum(1).clamp_min(Scalars.One);
    }

    /// <summary>User fields [B, Fu] → [B, Fu, D] (empty [B, 0, D] when there are none).</summary>
    protected Tensor EmbedUserFields(Tensor fields)
    {
        if (UserFieldEmbeddings.Count == 0)
        {
            return torch.zeros(fields.shape[0], 0, Dimension, device: fields.device);
        }

        var parts = new List<Tensor>();
        for (var f = 0; f < UserFieldEmbeddings.Count; f++)
        {
            parts.Add(UserFieldEmbeddings[f].forward(fields.select(1, f)));
        }

        return torch.stack(parts, 1);
    }

    /// <summary>A two-layer MLP with ReLU and dropout, Xavier-initialised.</summary>
    protected static Sequential Mlp(long input, int hidden, int output, double dropout) => nn.Sequential(
        ModelInit.XavierLinear(input, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        ModelInit.XavierLinear(hidden, output));
}

/// <summary>
/// An encoder whose user tower is <c>MLP(concat(mean-pooled history, user fields))</c>
/// (<see cref="TwoTowerEncoder"/>'s PooledUserFields into a two-layer MLP): DSSM and YouTubeDNN.
/// Such a tower also runs without libtorch, in <see cref="ManagedUserTower"/>.
/// </summary>
internal interface IPooledFieldsUserTower
{
    /// <summary>Linear → ReLU → Dropout → Linear.</summary>
    Sequential UserMlp { get; }
}

/// <summary>
/// An encoder whose user tower is ComiRec-SA's self-attention over the embedded history:
/// K interests = softmax_L(W2·tanh(W1·(H + P)))·H. Also runs without libtorch, in <see cref="ManagedUserTower"/>.
/// </summary>
internal interface ISelfAttentiveUserTower
{
    /// <summary>[MaxLen, D] position embeddings (right-aligned to the history).</summary>
    Tensor Positions { get; }

    /// <summary>D → 4D, followed by tanh.</summary>
    Linear W1 { get; }

    /// <summary>4D → K attention scores.</summary>
    Linear W2 { get; }
}

/// <summary>
/// An encoder whose user tower is ComiRec-DR's dynamic routing: Ŝ_kl = (W·h_l)[k], <see cref="RoutingIterations"/>
/// iterations of c = softmax_K(b) on real positions, v_k = squash(Σ_l c_kl Ŝ_kl), b += Ŝ·v, from
/// N(0, 1) initial logits. Also runs without libtorch, in <see cref="ManagedUserTower"/>.
/// </summary>
internal interface IRoutingUserTower
{
    /// <summary>D → K·D, no bias.</summary>
    Linear Mapping { get; }

    int RoutingIterations { get; }

    /// <summary>Routing logits start from N(0, 1) draws (else zeros).</summary>
    bool RandomStart { get; }
}

/// <summary>Encoder names for the CLI and checkpoints.</summary>
public static class EncoderRegistry
{
    public static IReadOnlyList<string> Names { get; } = ["dssm", "youtubednn", "comirec-sa", "comirec-dr"];

    public static TwoTowerEncoder Create(string name, FeatureTables tables, EncoderOptions options) => name.ToLowerInvariant() switch
    {
        "dssm" => new Dssm(tables, options),
        "youtubednn" => new YoutubeDnn(tables, options),
        "comirec-sa" => new ComiRecSA(tables, options),
        "comirec-dr" => new ComiRecDR(tables, options),
        _ => throw new ArgumentException($"Unknown encoder '{name}'. Known: {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>The registry name of an encoder instance.</summary>
    public static string NameOf(TwoTowerEncoder encoder) => encoder switch
    {
        Dssm => "dssm",
        YoutubeDnn => "youtubednn",
        ComiRecSA => "comirec-sa",
        ComiRecDR => "comirec-dr",
        _ => throw new ArgumentException($"Encoder type {encoder?.GetType().Name} is not registered.", nameof(encoder)),
    };
}
