using TorchSharp;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Mic;

/// <summary>
/// The support set across the two sides (paper §3.2: the support set lets "users retrieve items and
/// items retrieve users"): banks of train users' and all items' relevance-space vectors, refreshed with
/// the same-side banks, with each user's k nearest items and each item's k nearest users (cosine,
/// exact: users × items in row chunks). A mined positive is a random one of the k. Constants: no
/// gradient flows into the banks. Row numbering of users is the trainer's (train users with a
/// history), items are dense ids.
/// </summary>
public sealed class CrossSupportSet : IDisposable
{
    private const int Chunk = 2048;
    private readonly int _neighbours;
    private readonly Generator _generator;
    private Tensor? _users;        // [U, D] unit rows
    private Tensor? _items;        // [I, D] unit rows
    private Tensor? _itemsOfUser;  // [U, k]
    private Tensor? _usersOfItem;  // [I, k]

    public CrossSupportSet(int neighbours, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(neighbours, 1);
        _neighbours = neighbours;
        _generator = new Generator((ulong)seed);
    }

    public bool IsReady => _users is not null;

    /// <summary>Rebuilds both banks and both neighbour lists from relevance vectors users [U, D] and items [I, D].</summary>
    public void Refresh(Tensor users, Tensor items)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(items);
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var u = nn.functional.normalize(users.detach(), dim: 1);
        var i = nn.functional.normalize(items.detach(), dim: 1);
        var itemsOfUser = Nearest(u, i, (int)Math.Min(_neighbours, i.shape[0]));
        var usersOfItem = Nearest(i, u, (int)Math.Min(_neighbours, u.shape[0]));
        Dispose(disposeGenerator: false);
        // Owned by this set (disposed on the next refresh or with it), whatever scope the caller runs in.
        _users = u.DetachFromDisposeScope();
        _items = i.DetachFromDisposeScope();
        _itemsOfUser = itemsOfUser.DetachFromDisposeScope();
        _usersOfItem = usersOfItem.DetachFromDisposeScope();
    }

    /// <summary>Each query's top-k keys by cosine (unit rows): [Q, D] × [K, D] → ids [Q, k].</summary>
    public static Tensor Nearest(Tensor queries, Tensor keys, int k)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(keys);
        using var scope = torch.NewDisposeScope();
        var ids = new List<Tensor>();
        for (long start = 0; start < queries.shape[0]; start += Chunk)
        {
            var len = Math.Min(Chunk, queries.shape[0] - start);
            ids.Add(torch.mm(queries.narrow(0, start, len), keys.t()).topk(k, dim: 1).indexes);
        }

        return torch.cat(ids, 0).MoveToOuterDisposeScope();
    }

    /// <summary>The precomputed nearest items of user rows [B] → item ids [B, k].</summary>
    public Tensor ItemsOf(Tensor userRows) => (_itemsOfUser ?? throw NotBuilt()).index_select(0, userRows);

    /// <summary>The precomputed nearest user rows of items [B] → user rows [B, k].</summary>
    public Tensor UsersOf(Tensor itemIds) => (_usersOfItem ?? throw NotBuilt()).index_select(0, itemIds);

    /// <summary>One mined item per user row: [B] → the item bank's vectors [B, D].</summary>
    public Tensor SampleItems(Tensor userRows) => Pick(ItemsOf(userRows), _items!);

    /// <summary>One mined user per item id: [B] → the user bank's vectors [B, D].</summary>
    public Tensor SampleUsers(Tensor itemIds) => Pick(UsersOf(itemIds), _users!);

    private Tensor Pick(Tensor neighbours, Tensor bank)
    {
        var pick = torch.randint(0, neighbours.shape[1], [neighbours.shape[0], 1], generator: _generator, device: neighbours.device);
        return bank.index_select(0, neighbours.gather(1, pick).squeeze(1));
    }

    private static InvalidOperationException NotBuilt() => new("The cross support set has not been built yet.");

    /// <summary>The banks, both neighbour lists and the generator's state (names under <paramref name="prefix"/>) for a resumed run; live tensors.</summary>
    public List<KeyValuePair<string, Tensor>> ExportState(string prefix)
    {
        var tensors = new List<KeyValuePair<string, Tensor>> { new(prefix + "generator", _generator.get_state()) };
        if (_users is not null)
        {
            tensors.Add(new(prefix + "users", _users));
            tensors.Add(new(prefix + "items", _items!));
            tensors.Add(new(prefix + "itemsOfUser", _itemsOfUser!));
            tensors.Add(new(prefix + "usersOfItem", _usersOfItem!));
        }

        return tensors;
    }

    /// <summary>Restores what <see cref="ExportState"/> wrote, onto <paramref name="device"/>.</summary>
    public void ImportState(IReadOnlyDictionary<string, Tensor> tensors, string prefix, Device device)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        _generator.set_state(tensors[prefix + "generator"]);
        Dispose(disposeGenerator: false);
        (_users, _items, _itemsOfUser, _usersOfItem) = (null, null, null, null);
        if (tensors.TryGetValue(prefix + "users", out var users))
        {
            Tensor Copy(Tensor t) => t.to(device).clone().DetachFromDisposeScope();
            _users = Copy(users);
            _items = Copy(tensors[prefix + "items"]);
            _itemsOfUser = Copy(tensors[prefix + "itemsOfUser"]);
            _usersOfItem = Copy(tensors[prefix + "usersOfItem"]);
        }
    }

    public void Dispose() => Dispose(disposeGenerator: true);

    private void Dispose(bool disposeGenerator)
    {
        _users?.Dispose();
        _items?.Dispose();
        _itemsOfUser?.Dispose();
        _usersOfItem?.Dispose();
        if (disposeGenerator)
        {
            _generator.Dispose();
        }
    }
}
