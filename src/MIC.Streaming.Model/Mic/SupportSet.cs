using TorchSharp;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Mic;

/// <summary>
/// MIC Perturbation Mining, part 2 (paper §3.2, "support set"): a bank of representations (all
/// items, or all train users from their latest train history) refreshed every N steps, with each
/// row's nearest neighbours (cosine, self excluded) precomputed at refresh. A mined positive for row
/// r is a random one of its top-k neighbours or, with k-means clusters on, with probability ½ a
/// random member of r's cluster. Rows that are all-zero (no representation) never become positives.
/// Tensors here are constants: no gradient flows into the bank.
/// </summary>
public sealed class SupportSet : IDisposable
{
    private readonly int _neighbours;
    private readonly int _clusters;
    private readonly Generator _generator;
    private Tensor? _bank;        // [N, D] unit rows
    private Tensor? _neighbourIds; // [N, k]
    private Tensor? _clusterOf;   // [N]
    private long[][] _clusterMembers = [];

    public SupportSet(int neighbours, int clusters, long seed)
    {
        _neighbours = neighbours;
        _clusters = clusters;
        _generator = new Generator((ulong)seed);
    }

    public bool IsReady => _bank is not null;

    public Tensor Bank => _bank ?? throw new InvalidOperationException("The support set has not been built yet.");

    /// <summary>Rebuilds from fresh representations [N, D] (detached and copied).</summary>
    public void Refresh(Tensor representations)
    {
        ArgumentNullException.ThrowIfNull(representations);
        using var _ = torch.no_grad();
        var bank = nn.functional.normalize(representations.detach(), dim: 1).MoveToOuterDisposeScope();
        var n = bank.shape[0];
        var k = (int)Math.Min(_neighbours, Math.Max(1, n - 1));
        var ids = new List<Tensor>();
        const int Chunk = 2048;
        for (long start = 0; start < n; start += Chunk)
        {
            using var scope = torch.NewDisposeScope();
            var len = Math.Min(Chunk, n - start);
            var sims = torch.mm(bank.narrow(0, start, len), bank.t());                   // [c, N]
            var rows = torch.arange(start, start + len, device: bank.device);
            sims.index_put_(torch.tensor(float.NegativeInfinity), torch.arange(len, device: bank.device), rows); // no self
            ids.Add(sims.topk(k, dim: 1).indexes.MoveToOuterDisposeScope());
        }

        var neighbourIds = torch.cat(ids, 0);
        foreach (var t in ids)
        {
            t.Dispose();
        }

        _bank?.Dispose();
        _neighbourIds?.Dispose();
        _bank = bank;
        _neighbourIds = neighbourIds.MoveToOuterDisposeScope();
        if (_clusters > 1 && n > _clusters)
        {
            _clusterOf?.Dispose();
            _clusterOf = KMeans(bank, _clusters, iterations: 10).MoveToOuterDisposeScope();
            var labels = _clusterOf.data<long>().ToArray();
            _clusterMembers = Enumerable.Range(0, _clusters)
                .Select(c => Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).Select(i => (long)i).ToArray())
                .ToArray();
        }
    }

    /// <summary>The precomputed neighbour ids of rows [B] → [B, k].</summary>
    public Tensor NeighboursOf(Tensor rows) => (_neighbourIds ?? throw new InvalidOperationException("Not built.")).index_select(0, rows);

    /// <summary>One mined positive per row: rows [B] (long) → bank vectors [B, D].</summary>
    public Tensor SamplePositives(Tensor rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var nbrs = NeighboursOf(rows);                                                         // [B, k]
        var pick = torch.randint(0, nbrs.shape[1], [rows.shape[0], 1], generator: _generator, device: rows.device);
        var chosen = nbrs.gather(1, pick).squeeze(1);                                          // [B]
        if (_clusterOf is not null && _clusterMembers.Length > 0)
        {
            var rowIds = rows.data<long>().ToArray();
            var clusters = _clusterOf.index_select(0, rows).data<long>().ToArray();
            var chosenIds = chosen.data<long>().ToArray();
            var coin = torch.rand(rowIds.Length, generator: _generator).data<float>().ToArray();
            var memberPick = torch.rand(rowIds.Length, generator: _generator).data<float>().ToArray();
            for (var i = 0; i < rowIds.Length; i++)
            {
                var members = _clusterMembers[clusters[i]];
                if (coin[i] < 0.5f && members.Length > 1)
                {
                    var m = members[(int)(memberPick[i] * members.Length) % members.Length];
                    chosenIds[i] = m == rowIds[i] ? chosenIds[i] : m;
                }
            }

            chosen = torch.tensor(chosenIds, device: rows.device);
        }

        return Bank.index_select(0, chosen);
    }

    /// <summary>Spherical k-means (cosine) with k-means++-style seeding from the generator; returns labels [N].</summary>
    public Tensor KMeans(Tensor unitRows, int clusters, int iterations)
    {
        ArgumentNullException.ThrowIfNull(unitRows);
        using var scope = torch.NewDisposeScope();
        var n = unitRows.shape[0];
        var seeds = torch.randperm(n, generator: _generator, device: unitRows.device).narrow(0, 0, clusters);
        var centroids = unitRows.index_select(0, seeds);
        var labels = torch.zeros(n, dtype: ScalarType.Int64, device: unitRows.device);
        for (var it = 0; it < iterations; it++)
        {
            labels = torch.mm(unitRows, centroids.t()).argmax(1);                               // [N]
            var sums = torch.zeros(clusters, unitRows.shape[1], device: unitRows.device).index_add(0, labels, unitRows, 1.0);
            var counts = torch.bincount(labels, minlength: clusters).unsqueeze(1).to(ScalarType.Float32);
            // An empty cluster keeps its old centroid.
            centroids = torch.where(counts.gt(0), nn.functional.normalize(sums, dim: 1), centroids);
        }

        return labels.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _bank?.Dispose();
        _neighbourIds?.Dispose();
        _clusterOf?.Dispose();
        _generator.Dispose();
    }
}
