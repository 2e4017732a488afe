"""Writes the client suite's fixture tables with the real `deltalake` writer.

Usage: fixtures.py DIR   -> tables under DIR, facts (commit times) in DIR/fixtures.json
"""
import json
import sys
import time
from datetime import datetime, timezone

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

root = sys.argv[1]
facts = {}


def batch(ids, region, amount=None):
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "name": pa.array([f"n{i}" for i in ids]),
        "amount": pa.array(amount or [i * 1.5 for i in ids], pa.float64()),
        "day": pa.array([19000 + i % 3 for i in ids], pa.int32()).cast(pa.date32()),
        "region": pa.array([region] * len(ids)),
    })


def now_iso():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


# A partitioned table with seven versions: appends, a delete and an update that rewrite files,
# a replaceWhere overwrite and a full overwrite. Pauses give each commit its own time.
sales = f"{root}/sales"
steps = [
    lambda: write_deltalake(sales, batch([1, 2, 3], "eu"), partition_by=["region"], name="sales", description="d"),
    lambda: write_deltalake(sales, batch([4, 5], "us"), mode="append"),
    lambda: write_deltalake(sales, batch([6, 7], "eu"), mode="append"),
    lambda: DeltaTable(sales).delete("id = 2"),
    lambda: DeltaTable(sales).update(updates={"amount": "amount * 10"}, predicate="region = 'us'"),
    lambda: write_deltalake(sales, batch([100, 101], "apac"), mode="overwrite", predicate="region = 'apac'"),
    lambda: write_deltalake(sales, batch([8, 9, 10], "eu"), mode="overwrite"),
]
facts["sales_between"] = {}
for version, step in enumerate(steps):
    step()
    time.sleep(0.3)
    # A time after commit `version` and before the next one.
    facts["sales_between"][str(version)] = now_iso()
    time.sleep(0.3)

# A partitioned table with more regions, kept at its latest state for predicate tests.
regions = f"{root}/regions"
for i, region in enumerate(["eu", "us", "apac", "latam"]):
    write_deltalake(regions, batch([i * 10 + j for j in range(5)], region), partition_by=["region"], mode="append")

# Twelve commits, a checkpoint, then more commits after it.
many = f"{root}/many"
for i in range(12):
    write_deltalake(many, batch([i], "eu"), mode="append")
DeltaTable(many).create_checkpoint()
for i in range(12, 15):
    write_deltalake(many, batch([i], "eu"), mode="append")

# A table of another share, never granted to the regulator.
write_deltalake(f"{root}/secret", batch([42], "eu"))

json.dump(facts, open(f"{root}/fixtures.json", "w"), indent=1)
