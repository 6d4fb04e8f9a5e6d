#!/usr/bin/python3
"""Independent ItemCF / UserCF on the ComiRec protocol (numpy/scipy), to cross-check `mic eval baseline`.

Usage: /usr/bin/python3 bench/reference/neighbourhood_check.py <S3-Rec file> [shuffle-seed] [usercf-neighbours] [--dotnet-split] [--fold-in] [--print-test-users]
By default the user shuffle uses numpy's generator, so the split differs from ours: compare figures
across a few seeds. With --dotnet-split the shuffle is ours (`ComiRecSplitter`: Fisher-Yates driven by
.NET's seeded legacy `System.Random`, ported below), so `mic eval baseline --seed <same seed>` scores
the very same users and the two figures can be compared user for user.
"""
import sys
import numpy as np
import scipy.sparse as sp


def load(path, our_ids=False):
    """One sequence per line. With our_ids, items are numbered in order of first appearance, as our
    importer numbers them, so that ties (broken by the smaller id on both sides) fall the same way."""
    seqs, ids = [], {}
    for line in open(path):
        parts = line.split()
        if len(parts) > 1:
            seqs.append([ids.setdefault(x, len(ids) + 1) if our_ids else int(x) for x in parts[1:]])
    return seqs


class DotNetLegacyRandom:
    """`new System.Random(seed)` (.NET's seeded legacy algorithm: Knuth's subtractive generator)."""

    MBIG = 2147483647
    MSEED = 161803398

    def __init__(self, seed):
        seeds = [0] * 56
        subtraction = 2147483647 if seed == -2147483648 else abs(seed)
        mj = self.MSEED - subtraction
        seeds[55] = mj
        mk = 1
        ii = 0
        for i in range(1, 55):
            ii += 21
            if ii >= 55:
                ii -= 55
            seeds[ii] = mk
            mk = mj - mk
            if mk < 0:
                mk += self.MBIG
            mj = seeds[ii]
        for _ in range(4):
            for i in range(1, 56):
                n = i + 30
                if n >= 55:
                    n -= 55
                seeds[i] -= seeds[1 + n]
                if seeds[i] < 0:
                    seeds[i] += self.MBIG
        self.seeds, self.inext, self.inextp = seeds, 0, 21

    def next(self, max_value):
        """`Random.Next(maxValue)`: (int)(Sample() * maxValue)."""
        inext = 1 if self.inext + 1 >= 56 else self.inext + 1
        inextp = 1 if self.inextp + 1 >= 56 else self.inextp + 1
        value = self.seeds[inext] - self.seeds[inextp]
        if value == self.MBIG:
            value -= 1
        if value < 0:
            value += self.MBIG
        self.seeds[inext], self.inext, self.inextp = value, inext, inextp
        return int(value * (1.0 / self.MBIG) * max_value)


def dotnet_order(n, seed):
    """`ComiRecSplitter.Shuffle`: Fisher-Yates from the end with the seeded legacy Random."""
    values = list(range(n))
    rng = DotNetLegacyRandom(seed)
    for i in range(n - 1, 0, -1):
        j = rng.next(i + 1)
        values[i], values[j] = values[j], values[i]
    return values


def split(seqs, seed, max_len=20, dotnet=False):
    order = dotnet_order(len(seqs), seed) if dotnet else np.random.default_rng(seed).permutation(len(seqs))
    n = len(seqs)
    # Train users in line order under our split: UserCF's tied neighbours are then the smaller ids, as ours.
    train = [seqs[u] for u in (sorted(order[: int(n * 0.8)]) if dotnet else order[: int(n * 0.8)])]
    test, test_users = [], []
    for u in order[int(n * (0.8 + 0.1)):]:
        s = seqs[u]
        k = int(len(s) * 0.8)
        if 0 < k < len(s):
            test.append((s[max(0, k - max_len):k], s[k:]))
            test_users.append(u)
    return train, test, test_users


def recall_at(ranked, targets):
    t = set(targets)
    return len(t.intersection(ranked)) / len(t)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    path = args[0]
    seed = int(args[1]) if len(args) > 1 else 1
    user_k = int(args[2]) if len(args) > 2 else 100
    dotnet = "--dotnet-split" in sys.argv
    seqs = load(path, our_ids=dotnet)
    items = 1 + max(max(s) for s in seqs)
    train, test, test_users = split(seqs, seed, dotnet=dotnet)
    if "--print-test-users" in sys.argv:
        # The test users' line numbers (0-based), in split order: checks the shuffle against ours.
        print("test users:", " ".join(str(u) for u in test_users))
    fold_in = "--fold-in" in sys.argv  # hypothesis check: evaluation users' visible histories join the co-occurrence counts
    rows, cols = [], []
    for u, s in enumerate(train + ([h for h, _ in test] if fold_in else [])):
        for i in set(s):
            rows.append(u)
            cols.append(i)
    x = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(max(rows) + 1, items))
    deg = np.asarray(x.sum(0)).ravel()
    co = (x.T @ x).tocsr().astype(np.float32)
    co = co - sp.diags(co.diagonal())
    co.eliminate_zeros()
    inv = 1 / np.sqrt(np.maximum(deg, 1))
    sim = sp.diags(inv) @ co @ sp.diags(inv)  # cosine, every co-occurring item kept
    sim = sim.tocsr()
    pop = np.argsort(-deg, kind="stable")
    item_r, user_r = [], []
    udeg = np.asarray(x.sum(1)).ravel()
    for hist, targets in test:
        h = np.zeros(items, dtype=np.float32)
        h[list(set(hist))] = 1
        scores = np.asarray(sim.T @ h).ravel() if False else np.asarray(h @ sim).ravel()
        top = np.argsort(-scores, kind="stable")[:50]
        top = [i for i in top if scores[i] > 0]
        top += [i for i in pop if i not in top][: 50 - len(top)]
        item_r.append(recall_at(top, targets))
        # UserCF: cosine between the history set and each train user's item set, top-k users vote.
        overlap = np.asarray(x @ h).ravel()
        usim = overlap / np.sqrt(max(1, len(set(hist))) * np.maximum(udeg, 1))
        nbrs = np.argsort(-usim, kind="stable")[:user_k]
        nbrs = nbrs[usim[nbrs] > 0]
        votes = np.asarray(x[nbrs].T @ usim[nbrs]).ravel()
        top = np.argsort(-votes, kind="stable")[:50]
        top = [i for i in top if votes[i] > 0]
        top += [i for i in pop if i not in top][: 50 - len(top)]
        user_r.append(recall_at(top, targets))
    print(f"{path.split('/')[-1]} seed {seed}{' (our split)' if dotnet else ''}{' fold-in' if fold_in else ''}: test users {len(test)}, ItemCF(all) R@50 {np.mean(item_r):.4f}, UserCF({user_k}) R@50 {np.mean(user_r):.4f}")


if __name__ == "__main__":
    main()
