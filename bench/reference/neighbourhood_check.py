#!/usr/bin/python3
"""Independent ItemCF / UserCF on the ComiRec protocol (numpy/scipy), to cross-check `mic eval baseline`.

Usage: /usr/bin/python3 bench/reference/neighbourhood_check.py <S3-Rec file> [shuffle-seed] [usercf-neighbours]
The user shuffle uses numpy's generator, so the split differs from ours (a .NET legacy Random);
compare figures across a few seeds, not user by user.
"""
import sys
import numpy as np
import scipy.sparse as sp


def load(path):
    seqs = []
    for line in open(path):
        parts = line.split()
        if len(parts) > 1:
            seqs.append([int(x) for x in parts[1:]])
    return seqs


def split(seqs, seed, max_len=20):
    order = np.random.default_rng(seed).permutation(len(seqs))
    n = len(seqs)
    train = [seqs[u] for u in order[: int(n * 0.8)]]
    test = []
    for u in order[int(n * 0.9):]:
        s = seqs[u]
        k = int(len(s) * 0.8)
        if 0 < k < len(s):
            test.append((s[max(0, k - max_len):k], s[k:]))
    return train, test


def recall_at(ranked, targets):
    t = set(targets)
    return len(t.intersection(ranked)) / len(t)


def main():
    path = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    user_k = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    seqs = load(path)
    items = 1 + max(max(s) for s in seqs)
    train, test = split(seqs, seed)
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
    print(f"{path.split('/')[-1]} seed {seed}{' fold-in' if fold_in else ''}: test users {len(test)}, ItemCF(all) R@50 {np.mean(item_r):.4f}, UserCF({user_k}) R@50 {np.mean(user_r):.4f}")


if __name__ == "__main__":
    main()
