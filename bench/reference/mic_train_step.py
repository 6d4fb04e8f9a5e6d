#!/usr/bin/python3
"""Time the DSSM(+MIC) training step in PyTorch on batches exported by `mic bench train --reference`.

Usage: /usr/bin/python3 bench/reference/mic_train_step.py <export dir>
Builds the same architecture as MIC.Streaming's DSSM + MIC module (item fields id/category/attribute
bag, user MLP over the mean-pooled history and user fields, shared-space heads, field-mask +
dropout views, support-set positives) from the exported sizes, with its own weights, and prints one
JSON line: {"examples_per_second": ..., "ms_per_step": ..., "steps": ...}. The losses are the
textbook forms of mic_loss.py, written as a PyTorch user would.
"""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mic_loss import in_batch_softmax, load_export, logistic, nt_xent, pairwise, sampled_softmax  # noqa: E402


def mined_positive(bank_and_neighbours, rows):
    """One of each row's k precomputed neighbours, at random, as its support-set positive."""
    bank, nbrs = bank_and_neighbours
    pick = nbrs[rows].gather(1, torch.randint(0, nbrs.shape[1], (rows.shape[0], 1))).squeeze(1)
    return bank[pick]


def mlp(inp, hidden, out, p):
    layers = nn.Sequential(nn.Linear(inp, hidden), nn.ReLU(), nn.Dropout(p), nn.Linear(hidden, out))
    for m in layers:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return layers


class DssmMic(nn.Module):
    def __init__(self, c, category_of, attributes_of):
        super().__init__()
        d, h, p = c["dimension"], c["hidden"], c["dropout"]
        self.d = d
        self.items = c["item_count"]
        self.id = nn.Embedding(c["item_count"] + 1, d, padding_idx=0)
        self.cat = nn.Embedding(c["category_count"] + 1, d, padding_idx=0) if c["category_count"] > 0 else None
        self.attr = nn.Embedding(c["attribute_count"] + 1, d, padding_idx=0) if c["attribute_count"] > 0 and c["attribute_slots"] > 0 else None
        self.register_buffer("category_of", category_of)
        self.register_buffer("attributes_of", attributes_of)
        self.fields = 1 + (self.cat is not None) + (self.attr is not None)
        self.user_fields = nn.ModuleList([nn.Embedding(k, d, padding_idx=0) for k in c["user_field_cardinalities"]])
        self.user_mlp = mlp((1 + len(self.user_fields)) * d, h, d, p)
        self.item_mlp = mlp(self.fields * d, h, d, p)
        self.user_head = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d))
        self.item_head = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d))
        self.m = c["mic"]

    def item_fields(self, tokens):
        fields = [self.id(tokens)]
        if self.cat is not None:
            fields.append(self.cat(self.category_of[tokens]))
        if self.attr is not None:
            attrs = self.attributes_of[tokens]
            present = (attrs > 0).unsqueeze(-1).float()
            fields.append((self.attr(attrs) * present).sum(1) / present.sum(1).clamp_min(1))
        return torch.stack(fields, 1)

    def embed_sequence(self, tokens):
        distinct, inverse = torch.unique(tokens.reshape(-1), sorted=False, return_inverse=True)
        vectors = self.item_fields(distinct).sum(-2)
        return vectors[inverse].reshape(*tokens.shape, self.d)

    def perturb(self, fields):
        n, f, _ = fields.shape
        keep = torch.ones(n, f)
        k = min(self.m["masked_fields"], f - 1)
        if k > 0:
            keep.scatter_(1, torch.rand(n, f).topk(k, dim=1).indices, 0.0)
        return F.dropout(fields * keep.unsqueeze(-1), self.m["perturb_dropout"], training=True)

    def drop_history(self, mask):
        rate = self.m["history_drop_rate"]
        if rate <= 0:
            return mask
        keep = (torch.rand_like(mask) >= rate).float() * mask
        empty = (keep.sum(1, keepdim=True) == 0).float()
        last = torch.zeros_like(mask)
        last[:, -1] = mask[:, -1]
        return keep + empty * last

    def user_fields_of(self, embedded, mask, user_fields):
        weights = mask / mask.sum(1, keepdim=True).clamp_min(1)
        pooled = torch.bmm(weights.unsqueeze(1), embedded).squeeze(1)
        parts = [pooled.unsqueeze(1)] + [e(user_fields[:, i]).unsqueeze(1) for i, e in enumerate(self.user_fields)]
        return torch.cat(parts, 1)

    def loss(self, b, banks):
        m, tau = self.m, self.m["temperature"]
        ids, rows = b["target_ids"], b["user_rows"]
        embedded = self.embed_sequence(b["history"])
        fields = self.item_fields(ids + 1)
        user = self.user_mlp(self.user_fields_of(embedded, b["mask"], b["user_fields"]).flatten(1))
        item = self.item_mlp(fields.flatten(1))
        total = torch.zeros(())
        if m["softmax_weight"] > 0:
            if m["sampled_negatives"] > 0:
                sampled = torch.randint(0, self.items, (m["sampled_negatives"],))
                negatives = self.item_mlp(self.item_fields(sampled + 1).flatten(1))
                total = total + m["softmax_weight"] * sampled_softmax(user, item, negatives, ids, sampled, tau)
            else:
                total = total + m["softmax_weight"] * in_batch_softmax(user, item, ids, tau)
        if m["logistic_weight"] > 0:
            total = total + m["logistic_weight"] * logistic(user, item, ids, tau)
        same_side = nt_xent if m["same_side_form"] == "NtXent" else pairwise
        contrast = torch.zeros(())
        if m["uses_ui"]:
            contrast = contrast + m["weight_ui"] * nt_xent(self.user_head(user), self.item_head(item), ids, tau)
        if m["uses_uu"]:
            view_fields = self.perturb(self.user_fields_of(embedded, self.drop_history(b["mask"]), b["user_fields"]))
            view = self.user_mlp(view_fields.flatten(1))
            uu = same_side(user, view, rows, tau)
            if banks.get("user") is not None:
                uu = (uu + same_side(user, mined_positive(banks["user"], rows), rows, tau)) / 2
            contrast = contrast + m["weight_uu"] * uu
        if m["uses_ii"]:
            view = self.item_mlp(self.perturb(fields).flatten(1))
            ii = same_side(item, view, ids, tau)
            if banks.get("item") is not None:
                ii = (ii + same_side(item, mined_positive(banks["item"], ids), ids, tau)) / 2
            contrast = contrast + m["weight_ii"] * ii
        return total + m["lambda"] * contrast


def main():
    t, manifest = load_export(sys.argv[1])
    c = manifest["config"]
    torch.manual_seed(1)
    if c["threads"] > 0:
        torch.set_num_threads(c["threads"])
    model = DssmMic(c, t["category_of"], t["attributes_of"])
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=c["learning_rate"])
    k = c["mic"]["support_neighbours"]
    banks = {}
    for side, rows in (("user", c["mic"]["user_bank_rows"]), ("item", c["mic"]["item_bank_rows"])):
        if rows > 0:
            banks[side] = (F.normalize(torch.randn(rows, c["dimension"]), dim=1), torch.randint(0, rows, (rows, k)))
    batches = [{name: t[f"b{i}_{name}"] for name in ("history", "mask", "user_fields", "target_ids", "user_rows")} for i in range(c["batches"])]

    phases = [0.0, 0.0, 0.0]  # forward (incl. zero_grad), backward, optimizer

    def step(i):
        t0 = time.perf_counter()
        optimizer.zero_grad()
        loss = model.loss(batches[i % len(batches)], banks)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        optimizer.step()
        t3 = time.perf_counter()
        phases[0] += t1 - t0
        phases[1] += t2 - t1
        phases[2] += t3 - t2

    for i in range(3):
        step(i)
    phases[:] = [0.0, 0.0, 0.0]
    start = time.perf_counter()
    for i in range(c["steps"]):
        step(i)
    seconds = time.perf_counter() - start
    batch = batches[0]["target_ids"].shape[0]
    print(json.dumps({"examples_per_second": c["steps"] * batch / seconds, "ms_per_step": seconds * 1000 / c["steps"],
                      "forward_ms": phases[0] * 1000 / c["steps"], "backward_ms": phases[1] * 1000 / c["steps"], "optimizer_ms": phases[2] * 1000 / c["steps"],
                      "steps": c["steps"], "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
