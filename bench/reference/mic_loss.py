#!/usr/bin/python3
"""Recompute every part of MIC's training loss in PyTorch from tensors exported by TorchSharp.

Usage: /usr/bin/python3 bench/reference/mic_loss.py <export dir>
The dir holds manifest.json ({"tensors": {name: {"dtype", "shape"}}, "options": {...}}) and one raw
little-endian file per tensor (<name>.bin). Prints one JSON object: part name -> value.

Written from the paper's and the textbooks' definitions (explicit 2N x 2N NT-Xent matrix,
cross-entropy calls), not from the C# code, so it checks the C# loss code independently.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

NEG_INF = float("-inf")


def load_export(directory):
    """The tensors (name -> torch tensor) and the whole manifest of an export folder."""
    manifest = json.load(open(os.path.join(directory, "manifest.json")))
    tensors = {}
    for name, meta in manifest["tensors"].items():
        data = np.fromfile(os.path.join(directory, name + ".bin"), dtype=np.dtype(meta["dtype"]).newbyteorder("<"))
        tensors[name] = torch.from_numpy(data.reshape(meta["shape"]).copy())
    return tensors, manifest


def unit(x):
    return F.normalize(x, dim=1)


def logistic(u, i, ids, tau):
    u, i = unit(u), unit(i)
    pos = (u * i).sum(1) / tau
    neg = (u * torch.roll(i, 1, 0)).sum(1) / tau  # the next example's item
    valid = (ids != torch.roll(ids, 1, 0)).float()
    pos_loss = F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos))
    neg_loss = (F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg), reduction="none") * valid).sum() / valid.sum().clamp_min(1)
    return pos_loss + neg_loss


def in_batch_softmax(u, i, ids, tau):
    n = u.shape[0]
    logits = unit(u) @ unit(i).T / tau
    duplicates = (ids[:, None] == ids[None, :]) & ~torch.eye(n, dtype=torch.bool)
    return F.cross_entropy(logits.masked_fill(duplicates, NEG_INF), torch.arange(n))


def sampled_softmax(u, i, negatives, ids, negative_ids, tau):
    pos = (unit(u) * unit(i)).sum(1, keepdim=True) / tau
    neg = (unit(u) @ unit(negatives).T / tau).masked_fill(ids[:, None] == negative_ids[None, :], NEG_INF)
    return F.cross_entropy(torch.cat([pos, neg], 1), torch.zeros(u.shape[0], dtype=torch.long))


def hard_logits(a, hard, tau):
    """Each a-anchor against its own M hard negatives: [N, D], [N, M, D] -> [N, M]."""
    return torch.einsum("nd,nmd->nm", unit(a), F.normalize(hard, dim=2)) / tau


def nt_xent(a, b, groups, tau, hard=None):
    """SimCLR's NT-Xent over the 2N x 2N matrix; rows of the same group (other than the positive) are not
    negatives. Hard negatives [N, M, D] are M more columns, seen only by the N a-anchors."""
    n = a.shape[0]
    z = torch.cat([unit(a), unit(b)])
    sim = z @ z.T / tau
    g = torch.cat([groups, groups])
    target = torch.cat([torch.arange(n) + n, torch.arange(n)])
    positive = torch.zeros(2 * n, 2 * n, dtype=torch.bool)
    positive[torch.arange(2 * n), target] = True
    same = g[:, None] == g[None, :]  # includes each row itself
    sim = sim.masked_fill(same & ~positive, NEG_INF)
    if hard is not None:
        extra = torch.full((2 * n, hard.shape[1]), NEG_INF)
        extra[:n] = hard_logits(a, hard, tau)
        sim = torch.cat([sim, extra], 1)
    return F.cross_entropy(sim, target)


def pairwise(a, b, groups, tau, hard=None):
    n = a.shape[0]
    logits = unit(a) @ unit(b).T / tau
    duplicates = (groups[:, None] == groups[None, :]) & ~torch.eye(n, dtype=torch.bool)
    logits = logits.masked_fill(duplicates, NEG_INF)
    labels = torch.arange(n)
    rows = logits if hard is None else torch.cat([logits, hard_logits(a, hard, tau)], 1)
    return (F.cross_entropy(rows, labels) + F.cross_entropy(logits.T, labels)) / 2


def head(x, t, side):
    hidden = F.linear(x, t[f"{side}_head_hidden_weight"], t[f"{side}_head_hidden_bias"])
    return F.linear(F.relu(hidden), t[f"{side}_head_output_weight"], t[f"{side}_head_output_bias"])


def main():
    t, manifest = load_export(sys.argv[1])
    o = manifest["options"]
    tau = o["temperature"]
    same_side = nt_xent if o["same_side_form"] == "NtXent" else pairwise
    ids, rows = t["target_ids"], t["user_rows"]
    parts = {"softmax": 0.0, "logistic": 0.0, "ui": 0.0, "uu": 0.0, "ii": 0.0}
    if o["softmax_weight"] > 0:
        parts["softmax"] = (sampled_softmax(t["user"], t["item"], t["sampled_items"], ids, t["sampled_ids"], tau)
                            if "sampled_ids" in t else in_batch_softmax(t["user"], t["item"], ids, tau)).item()
    if o["logistic_weight"] > 0:
        parts["logistic"] = logistic(t["user"], t["item"], ids, tau).item()
    if "user_head_hidden_weight" in t and o["uses_ui"]:
        user_shared, item_shared = head(t["user"], t, "user"), head(t["item"], t, "item")
        ui = nt_xent(user_shared, item_shared, ids, tau)
        if "ui_mined_items" in t:  # mined positives across the sides: user -> item, item -> user
            mined = (nt_xent(user_shared, t["ui_mined_items"], rows, tau) + nt_xent(item_shared, t["ui_mined_users"], ids, tau)) / 2
            ui = (ui + mined) / 2
        parts["ui"] = ui.item()
    if "uu_view" in t:
        hard = t.get("uu_hard")
        uu = same_side(t["uu_own"], t["uu_view"], rows, tau, hard)
        if "uu_support" in t:
            uu = (uu + same_side(t["uu_own"], t["uu_support"], rows, tau, hard)) / 2
        parts["uu"] = uu.item()
    if "ii_view" in t:
        hard = t.get("ii_hard")
        ii = same_side(t["item"], t["ii_view"], ids, tau, hard)
        if "ii_support" in t:
            ii = (ii + same_side(t["item"], t["ii_support"], ids, tau, hard)) / 2
        parts["ii"] = ii.item()
    parts["total"] = (o["softmax_weight"] * parts["softmax"] + o["logistic_weight"] * parts["logistic"]
                      + o["lambda"] * (o["weight_ui"] * parts["ui"] + o["weight_uu"] * parts["uu"] + o["weight_ii"] * parts["ii"]))
    print(json.dumps(parts))


if __name__ == "__main__":
    main()
