#!/usr/bin/env python3
"""docs/CAPACITY.md's table, computed from the unit costs `mic bench capacity --out <json>` measured.

    python3 bench/capacity/capacity_table.py docs/capacity/unit-costs.json

Every cell is a formula of those units and of the assumptions below (printed with the table); change
an assumption here, not in the markdown. Sizes: {1 M, 10 M} items x {10 M, 100 M} users x {1 k, 10 k}
candidate requests/s x {10 k, 100 k} events/s.
"""
import json
import math
import sys

GIB = 1024 ** 3

# Assumptions (each is a setting or a stated guess, not a measurement).
A = {
    "trainer_max_users": 10_000_000,   # Trainer:MaxUsers (values-production): users in the trainer, its dataset and the U2U2I index
    "history_per_user": 20,            # recent items per kept user in a version's dataset (Trainer:MaxUserSequence caps it at 50)
    "pod_cores": 8,                    # values-production serving pod
    "pod_memory_gib": 32,              # values-production request (limit 48)
    "memory_headroom": 0.6,            # share of a pod's memory the model may take (grains, buffers, a second version during a swap)
    "cpu_utilisation": 0.6,            # target CPU utilisation (the HPA's)
    "active_grains_per_event_s": 90,   # user grains in memory ≈ events/s × 900 s collection age ÷ 10 clicks per visit
    "redis_headroom": 1.5,             # fragmentation, AOF rewrite
    "examples_per_event": 3,           # Trainer:EpochsPerUpdate (2) + Trainer:ReplayRatio (1)
    "keep_versions": 5,                # Trainer:KeepVersions
    "ingest_share_per_partition": 0.5, # a partition's consumer may use half a core
    "measured_at": 200_000,            # the serving units were measured at 200 k items and 200 k users
}


def load(path):
    with open(path, encoding="utf-8") as f:
        return {c["Key"]: c["Value"] for c in json.load(f)}


def row(u, items, users, rps, eps):
    indexed = min(users, A["trainer_max_users"])
    vectors = items + indexed
    tower = u["tower_weights_bytes_per_item"] * items + u["tower_dataset_bytes_per_interaction"] * indexed * A["history_per_user"]
    replicated_index = u["replicated_bytes_per_vector"] * vectors
    sharded_index = u["sharded_bytes_per_vector"] * vectors
    active_grains = min(users, eps * A["active_grains_per_event_s"])
    grain_heap = active_grains * u["user_grain_heap_bytes"]
    budget = A["pod_memory_gib"] * GIB * A["memory_headroom"]

    # Query CPU: measured at 200 k; IVF scans grow ~ √n (nlist = 4√n, fixed nprobe).
    scale = math.sqrt(max(items, indexed) / A["measured_at"])
    query_ms = u["query_cpu_ms_merged"] * scale
    ingest_cores = eps * u["ingest_cpu_us_users_items"] / 1e6
    sharded = tower + replicated_index > budget
    if sharded:
        query_ms *= u["fanout_cpu_ratio"]
    serving_cores = rps * query_ms / 1000 + ingest_cores
    pods_cpu = math.ceil(serving_cores / (A["pod_cores"] * A["cpu_utilisation"]))
    if sharded:
        free = budget - tower
        pods_mem = math.ceil((sharded_index + grain_heap) / free) if free > 0 else float("inf")
        pods = max(2, pods_cpu, pods_mem)
        shards = 2 * pods
        memory = tower + (sharded_index + grain_heap) / pods
    else:
        pods = max(2, pods_cpu)
        shards = 0
        memory = tower + replicated_index + grain_heap / pods
    redis = (users * u["user_grain_redis_bytes"] + items * u["user_item_redis_bytes"]) * A["redis_headroom"]
    partitions = max(pods, math.ceil(ingest_cores / A["ingest_share_per_partition"]))
    examples = eps * A["examples_per_event"]
    trainer_cores = examples / u["train_examples_per_core_s_dssm+mic"]
    gpu_table = items * 128 * 4 * 4  # weights, gradient, two Adam moments, float32, dim 128
    version = tower + replicated_index + (sharded_index if sharded else 0)
    store = version * A["keep_versions"]
    return {
        "items": items, "users": users, "rps": rps, "eps": eps, "mode": "sharded" if sharded else "replicated",
        "pods": pods, "shards": shards, "pods_cpu": pods_cpu, "serving_cores": serving_cores, "query_ms": query_ms,
        "memory": memory, "tower": tower, "redis": redis, "partitions": partitions, "trainer_cores": trainer_cores,
        "gpu_table": gpu_table, "store": store, "indexed": indexed,
    }


def fmt_n(n):
    return f"{n / 1e6:g} M" if n >= 1e6 else f"{n / 1e3:g} k"


def main(path):
    u = load(path)
    print("| # | items | users | req/s | events/s | mode | serving pods (CPU-bound) | shards | memory/pod GiB (tower) | query CPU ms | Redis GiB | Kafka partitions | trainer cores (DSSM+MIC, CPU) | GPU item table GiB | model store GiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    n = 0
    for items in (1_000_000, 10_000_000):
        for users in (10_000_000, 100_000_000):
            for rps in (1_000, 10_000):
                for eps in (10_000, 100_000):
                    n += 1
                    r = row(u, items, users, rps, eps)
                    print(f"| {n} | {fmt_n(items)} | {fmt_n(users)} | {fmt_n(rps)} | {fmt_n(eps)} | {r['mode']} | {r['pods']} ({r['pods_cpu']}) | {r['shards'] or '–'} | "
                          f"{r['memory'] / GIB:.1f} ({r['tower'] / GIB:.1f}) | {r['query_ms']:.2f} | {r['redis'] / GIB:.0f} | {r['partitions']} | "
                          f"{r['trainer_cores']:.0f} | {r['gpu_table'] / GIB:.0f} | {r['store'] / GIB:.0f} |")
    print()
    print("Assumptions: " + ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v:,}" for k, v in A.items()))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/capacity/unit-costs.json")
