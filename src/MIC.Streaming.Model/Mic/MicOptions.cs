using System.Text.Json.Serialization;

namespace MIC.Streaming.Model.Mic;

/// <summary>Which contrastive channels are on (paper Table 4's ablation rows).</summary>
public enum MicVariant
{
    /// <summary>The vanilla encoder: base losses only.</summary>
    Base,

    /// <summary>Base + user–item contrast in the shared space.</summary>
    UI,

    /// <summary>Base + user–user contrast.</summary>
    UU,

    /// <summary>Base + item–item contrast.</summary>
    II,

    /// <summary>Base + UI + UU + II.</summary>
    Full,
}

/// <summary>The form of the user–user and item–item InfoNCE terms.</summary>
public enum ContrastiveForm
{
    /// <summary>a_i against every b_j and b_i against every a_j: N−1 negatives each way (a quarter of NT-Xent's similarities).</summary>
    Pairwise,

    /// <summary>NT-Xent: each view's negatives are the other 2(N−1) representations of both views — the form of the UI term and the paper's for all three.</summary>
    NtXent,
}

/// <summary>Every weight and knob of the MIC module; defaults are the paper's where it gives them.</summary>
public sealed record MicOptions
{
    public MicVariant Variant { get; init; } = MicVariant.Full;

    /// <summary>λ: weight of the contrastive sum (paper: 0.7).</summary>
    public double Lambda { get; init; } = 0.7;

    /// <summary>Channel weights (paper: 1:1:1).</summary>
    public double WeightUI { get; init; } = 1;

    public double WeightUU { get; init; } = 1;

    public double WeightII { get; init; } = 1;

    /// <summary>InfoNCE temperature τ (paper: 0.1), also used to scale cosine logits of the base losses.</summary>
    public double Temperature { get; init; } = 0.1;

    /// <summary>Weight of the encoder's softmax loss (0 = the paper's base: the logistic loss alone).</summary>
    public double SoftmaxWeight { get; init; } = 1;

    /// <summary>Weight of the basic logistic user–item loss.</summary>
    public double LogisticWeight { get; init; } = 1;

    /// <summary>
    /// Negatives of the softmax base loss: 0 = the batch's other target items (in-batch softmax);
    /// N &gt; 0 = N items drawn uniformly from the catalogue per step, shared by the batch (sampled
    /// softmax as YouTubeDNN and ComiRec train; ComiRec draws 10 × batch).
    /// </summary>
    public int SampledNegatives { get; init; }

    /// <summary>Form of the UU and II terms (UI is always NT-Xent).</summary>
    public ContrastiveForm SameSideForm { get; init; } = ContrastiveForm.Pairwise;

    /// <summary>Training steps before the support set is first built (0 = at step 0, from the untrained model).</summary>
    public int SupportWarmupSteps { get; init; }

    /// <summary>Fields masked per instance in a perturbed view.</summary>
    public int MaskedFields { get; init; } = 1;

    /// <summary>Dropout in the embedded feature space for perturbed views (paper: 0.2).</summary>
    public double PerturbDropout { get; init; } = 0.2;

    /// <summary>Share of history items dropped in a perturbed user view.</summary>
    public double HistoryDropRate { get; init; } = 0.2;

    /// <summary>Mine extra positives from the nearest neighbours in the support set.</summary>
    public bool UseSupportSet { get; init; } = true;

    /// <summary>How many nearest neighbours form the candidate positives of an instance.</summary>
    public int SupportNeighbours { get; init; } = 10;

    /// <summary>k-means clusters in the support set (0 = off); a cluster member is then an alternative positive.</summary>
    public int SupportClusters { get; init; }

    /// <summary>Refresh the support set every N training steps.</summary>
    public int SupportRefreshSteps { get; init; } = 200;

    /// <summary>
    /// Support sets with fewer rows find neighbours exactly (all pairs); larger ones with an inverted-file
    /// search (√n spherical k-means cells, each cell's rows searched among its <see cref="SupportProbe"/>
    /// nearest cells), which costs ~probe/√n of the exact pass.
    /// </summary>
    public int SupportExactBelow { get; init; } = 4096;

    /// <summary>Cells searched per cell in the inverted-file neighbour search of large support sets.</summary>
    public int SupportProbe { get; init; } = 16;

    /// <summary>
    /// Mined user–item positives for UI ("users to retrieve items and items to retrieve users"): at
    /// every support refresh each train user's nearest items and each item's nearest train users are
    /// found in the relevance space; UI then also contrasts a user with one of its mined items and an
    /// item with one of its mined users, averaged with the in-batch pair as UU/II do. Needs UI on.
    /// (New options are left out of the JSON when at their default, so the reproduction's run keys
    /// of runs trained before them stay the same.)
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool CrossPositives { get; init; }

    /// <summary>
    /// Hard negatives per anchor in UU and II (0 = off): bank rows drawn from the k-means clusters
    /// nearest to — but other than — the anchor's own cluster (close enough to be hard, outside the
    /// cluster so rarely a false negative). Clusters: <see cref="SupportClusters"/> when &gt; 1, else √rows.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int HardNegatives { get; init; }

    public bool UsesUI => Variant is MicVariant.UI or MicVariant.Full;

    public bool UsesUU => Variant is MicVariant.UU or MicVariant.Full;

    public bool UsesII => Variant is MicVariant.II or MicVariant.Full;

    /// <summary>True when the UI contrastive term trains the shared-space heads (which then serve U2I).</summary>
    [JsonIgnore]
    public bool TrainsSharedSpace => UsesUI && Lambda > 0 && WeightUI > 0;

    public void Validate()
    {
        if (Lambda < 0 || WeightUI < 0 || WeightUU < 0 || WeightII < 0 || SoftmaxWeight < 0 || LogisticWeight < 0)
        {
            throw new ArgumentException("MIC weights must be ≥ 0.");
        }

        if (Temperature <= 0)
        {
            throw new ArgumentException("Temperature must be > 0.");
        }

        if (SampledNegatives < 0 || SupportWarmupSteps < 0 || HardNegatives < 0)
        {
            throw new ArgumentException("Sampled negatives, hard negatives and support warm-up steps must be ≥ 0.");
        }

        if (SupportNeighbours < 1 || SupportRefreshSteps < 1 || SupportClusters < 0 || SupportExactBelow < 0 || SupportProbe < 1)
        {
            throw new ArgumentException("Support set sizes must be ≥ 1 (clusters ≥ 0, exact-below ≥ 0).");
        }
    }
}
