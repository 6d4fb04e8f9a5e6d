using MIC.Streaming.Model.Encoders;
using MIC.Streaming.Model.Mic;
using TorchSharp;
using static TorchSharp.torch;

namespace MIC.Streaming.Model;

/// <summary>One training batch: user input, target item tokens/ids and the user's dense index.</summary>
public sealed record TrainBatch(UserBatch User, Tensor TargetTokens, Tensor TargetIds, Tensor UserRows);

/// <summary>
/// An encoder + the MIC module (paper Fig. 2): own-space towers from the encoder, shared-space
/// projection heads, the perturbation layer for contrastive views, and the combined loss.
/// Inference: own spaces serve U2U / I2I; the relevance space (shared space when the UI term is
/// trained, else the own space) serves U2I and the cosine that ranks the other two channels.
/// </summary>
public sealed class MicModel : nn.Module
{
    private readonly TwoTowerEncoder encoder;
    private readonly SharedSpaceProjection user_head;
    private readonly SharedSpaceProjection item_head;

    public MicModel(TwoTowerEncoder encoder, MicOptions options)
        : base(nameof(MicModel))
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.encoder = encoder;
        Options = options;
        user_head = new SharedSpaceProjection("user_head", encoder.Dimension);
        item_head = new SharedSpaceProjection("item_head", encoder.Dimension);
        Perturbation = new FieldMaskEmbedding(options.MaskedFields, options.PerturbDropout, options.HistoryDropRate);
        RegisterComponents();
    }

    public MicOptions Options { get; }

    public TwoTowerEncoder Encoder => encoder;

    public FieldMaskEmbedding Perturbation { get; }

    /// <summary>The user side's shared-space head (read by <see cref="ManagedUserTower"/>).</summary>
    internal SharedSpaceProjection UserHead => user_head;

    /// <summary>The item side's shared-space head (read by the loss cross-check).</summary>
    internal SharedSpaceProjection ItemHead => item_head;

    /// <summary>True when U2I uses the shared space (the UI contrastive term trains the heads) and <see cref="ServeOwnSpace"/> is off.</summary>
    public bool UsesSharedSpace => !ServeOwnSpace && TrainsSharedSpace;

    /// <summary>True when the UI contrastive term trains the shared-space heads.</summary>
    public bool TrainsSharedSpace => Options.TrainsSharedSpace;

    /// <summary>
    /// An evaluation reading (issue #19's encoder question): serve U2I and the channels' user–item
    /// cosine from the own spaces even though the heads were trained, so a checkpoint can be scored
    /// both ways. Training is unaffected (the UI term always reads the heads). Set it before
    /// creating <see cref="ModelEmbeddings"/>: the libtorch-free user tower reads it once.
    /// </summary>
    public bool ServeOwnSpace { get; set; }

    /// <summary>User interests in the own space: [B, K, D].</summary>
    public Tensor UserOwn(UserBatch batch) => encoder.EncodeUser(batch);

    /// <summary>Own space → relevance space (shared-space head or identity).</summary>
    public Tensor UserRelevance(Tensor userOwn) => UsesSharedSpace ? user_head.forward(userOwn) : userOwn;

    public Tensor ItemOwn(Tensor itemTokens) => encoder.EncodeItem(itemTokens);

    public Tensor ItemRelevance(Tensor itemOwn) => UsesSharedSpace ? item_head.forward(itemOwn) : itemOwn;

    /// <summary>
    /// The combined loss of <see cref="CrossChannelLoss"/> for one batch, and its parts.
    /// userSupport is keyed by <see cref="TrainBatch.UserRows"/>, itemSupport by item id;
    /// crossSupport (mined user→item and item→user positives for UI) by both.
    /// <paramref name="capture"/> (tests, the PyTorch cross-check) receives every tensor the loss
    /// terms are computed from, so each term can be recomputed independently.
    /// </summary>
    public (Tensor Loss, Tensor[] Parts) Loss(TrainBatch batch, SupportSet? userSupport, SupportSet? itemSupport, IDictionary<string, Tensor>? capture = null, CrossSupportSet? crossSupport = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var o = Options;
        // Embed once; perturbed views reuse the embeddings and perturb on top of them.
        var userInput = batch.User with { EmbeddedHistory = encoder.EmbedHistory(batch.User.History) };
        var itemFields = encoder.EmbedItemFields(batch.TargetTokens);                   // [B, F, D]
        var userK = encoder.EncodeUser(userInput);                                      // [B, K, D]
        var item = encoder.EncodeItem(batch.TargetTokens, fields: itemFields);          // [B, D]
        var user = Readout(userK, item);                                                // [B, D]
        var zero = torch.zeros(1, device: item.device).squeeze();
        var itemGroups = InBatchGroups.Of(batch.TargetIds, batch.TargetIds.shape[0], item.device); // shared by every loss over the batch's items
        Capture(capture, "user", user);
        Capture(capture, "item", item);
        Capture(capture, "target_ids", batch.TargetIds);
        Capture(capture, "user_rows", batch.UserRows);

        var softmax = o.SoftmaxWeight <= 0 ? zero
            : o.SampledNegatives > 0 ? SampledSoftmax(user, item, batch.TargetIds, o.SampledNegatives, o.Temperature, capture)
            : CrossChannelLoss.InBatchSoftmax(user, item, itemGroups, o.Temperature);
        var logistic = o.LogisticWeight > 0 ? CrossChannelLoss.Logistic(user, item, batch.TargetIds, o.Temperature) : zero;
        var ui = zero;
        var uu = zero;
        var ii = zero;
        InBatchGroups? userGroupsOnce = null; // only the UU term and mined UI pairs need it
        InBatchGroups UserGroups() => userGroupsOnce ??= InBatchGroups.Of(batch.UserRows, batch.UserRows.shape[0], item.device);
        if (o.Lambda > 0 && o.UsesUI && o.WeightUI > 0)
        {
            var userShared = user_head.forward(user);
            var itemShared = item_head.forward(item);
            ui = CrossChannelLoss.InfoNce(userShared, itemShared, o.Temperature, itemGroups);
            if (crossSupport is { IsReady: true })
            {
                // Mined positives across the sides: a user with one of its nearest items, an item with
                // one of its nearest users (bank vectors in the relevance space, i.e. after the heads).
                var minedItems = crossSupport.SampleItems(batch.UserRows);
                var minedUsers = crossSupport.SampleUsers(batch.TargetIds);
                Capture(capture, "ui_user_shared", userShared);
                Capture(capture, "ui_item_shared", itemShared);
                Capture(capture, "ui_mined_items", minedItems);
                Capture(capture, "ui_mined_users", minedUsers);
                var mined = (CrossChannelLoss.InfoNce(userShared, minedItems, o.Temperature, UserGroups())
                    + CrossChannelLoss.InfoNce(itemShared, minedUsers, o.Temperature, itemGroups)) / Scalars.Two;
                ui = (ui + mined) / Scalars.Two;
            }
        }

        if (o.Lambda > 0 && o.UsesUU && o.WeightUU > 0)
        {
            var userGroups = UserGroups();
            var own = userK.mean([1]);                                                  // [B, D]
            var view = encoder.EncodeUser(userInput, Perturbation).mean([1]);
            var hard = userSupport is { IsReady: true } ? userSupport.SampleHardNegatives(batch.UserRows) : null;
            Capture(capture, "uu_own", own);
            Capture(capture, "uu_view", view);
            CaptureIf(capture, "uu_hard", hard);
            uu = SameSide(own, view, userGroups, hard);
            if (userSupport is { IsReady: true })
            {
                var positives = userSupport.SamplePositives(batch.UserRows);
                Capture(capture, "uu_support", positives);
                uu = (uu + SameSide(own, positives, userGroups, hard)) / Scalars.Two;
            }
        }

        if (o.Lambda > 0 && o.UsesII && o.WeightII > 0)
        {
            var view = encoder.EncodeItem(batch.TargetTokens, Perturbation, itemFields);
            var hard = itemSupport is { IsReady: true } ? itemSupport.SampleHardNegatives(batch.TargetIds) : null;
            Capture(capture, "ii_view", view);
            CaptureIf(capture, "ii_hard", hard);
            ii = SameSide(item, view, itemGroups, hard);
            if (itemSupport is { IsReady: true })
            {
                var positives = itemSupport.SamplePositives(batch.TargetIds);
                Capture(capture, "ii_support", positives);
                ii = (ii + SameSide(item, positives, itemGroups, hard)) / Scalars.Two;
            }
        }

        var loss = (Scalars.Of(o.SoftmaxWeight) * softmax) + (Scalars.Of(o.LogisticWeight) * logistic)
            + (Scalars.Of(o.Lambda) * ((Scalars.Of(o.WeightUI) * ui) + (Scalars.Of(o.WeightUU) * uu) + (Scalars.Of(o.WeightII) * ii)));
        return (loss, [softmax, logistic, ui, uu, ii]);
    }

    private static void Capture(IDictionary<string, Tensor>? capture, string name, Tensor value)
    {
        if (capture is not null)
        {
            capture[name] = value.detach().cpu().clone().DetachFromDisposeScope();
        }
    }

    private static void CaptureIf(IDictionary<string, Tensor>? capture, string name, Tensor? value)
    {
        if (value is not null)
        {
            Capture(capture, name, value);
        }
    }

    /// <summary>The UU / II term in the configured form; hard negatives [B, M, D] join the anchors' denominators.</summary>
    private Tensor SameSide(Tensor a, Tensor b, InBatchGroups groups, Tensor? hard) => Options.SameSideForm == ContrastiveForm.NtXent
        ? CrossChannelLoss.InfoNce(a, b, Options.Temperature, groups, hard)
        : CrossChannelLoss.PairwiseInfoNce(a, b, Options.Temperature, groups, hard);

    /// <summary>
    /// Sampled softmax: each user against its target and <paramref name="negatives"/> items drawn
    /// uniformly from the catalogue (shared by the batch; a draw equal to the target is masked).
    /// </summary>
    private Tensor SampledSoftmax(Tensor user, Tensor item, Tensor targetIds, int negatives, double temperature, IDictionary<string, Tensor>? capture)
    {
        var ids = torch.randint(0, encoder.ItemCount, [negatives], dtype: ScalarType.Int64, device: item.device);
        var negativeItems = encoder.EncodeItem(ids + Scalars.One);                                // [S, D]
        Capture(capture, "sampled_ids", ids);
        Capture(capture, "sampled_items", negativeItems);
        return CrossChannelLoss.SampledSoftmax(user, item, negativeItems, targetIds, ids, temperature);
    }

    /// <summary>Multi-interest readout (ComiRec training): the interest closest to the target item. [B, K, D], [B, D] → [B, D].</summary>
    public static Tensor Readout(Tensor userK, Tensor item)
    {
        ArgumentNullException.ThrowIfNull(userK);
        ArgumentNullException.ThrowIfNull(item);
        if (userK.shape[1] == 1)
        {
            return userK.squeeze(1);
        }

        var scores = torch.bmm(userK, item.unsqueeze(-1)).squeeze(-1);                  // [B, K]
        var best = scores.argmax(1, keepdim: true);                                     // [B, 1]
        return userK.gather(1, best.unsqueeze(-1).expand(-1, 1, userK.shape[2])).squeeze(1);
    }
}
