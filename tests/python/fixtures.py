"""Writes the client suite's fixture tables with the real `deltalake` writer.

Usage: fixtures.py DIR   -> tables under DIR, facts (commit times) in DIR/fixtures.json
"""
import json
import os
import struct
import sys
import time
import uuid
import zlib
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
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

# Column mapping (name mode): physical column names differ from the logical ones.
cm = f"{root}/cm"
write_deltalake(cm, pa.table({"id": [1, 2, 3, 4], "v": list("abcd")}), configuration={"delta.columnMapping.mode": "name"})
write_deltalake(cm, pa.table({"id": [5], "v": ["e"]}), mode="append")

# timestampNtz (reader feature): timestamps without a time zone.
ntz = f"{root}/ntz"
DeltaTable.create(ntz, schema=pa.schema([("id", pa.int64()), ("t", pa.timestamp("us"))]))
write_deltalake(ntz, pa.table({"id": [1, 2], "t": pa.array([datetime(2024, 3, 31, 12), datetime(2024, 6, 30, 8, 30)], pa.timestamp("us"))}), mode="append")


# Deletion vectors, written by hand (deltalake cannot): one file of four rows, then a commit
# that deletes rows 1 and 3 of it through a deletion vector file.
Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"


def z85(b):
    out = ""
    for i in range(0, len(b), 4):
        n = struct.unpack(">I", b[i:i + 4])[0]
        s = ""
        for _ in range(5):
            s = Z85[n % 85] + s
            n //= 85
        out += s
    return out


def roaring32(vals):
    by = {}
    for v in sorted(vals):
        by.setdefault(v >> 16, []).append(v & 0xFFFF)
    hdr = struct.pack("<II", 12346, len(by)) + b"".join(struct.pack("<HH", k, len(v) - 1) for k, v in by.items())
    off, offs, data = 8 + 8 * len(by), b"", b""
    for v in by.values():
        offs += struct.pack("<I", off + len(data))
        data += struct.pack(f"<{len(v)}H", *v)
    return hdr + offs + data


def dv_bytes(rows):
    b = {}
    for r in rows:
        b.setdefault(r >> 32, []).append(r & 0xFFFFFFFF)
    return struct.pack("<iq", 1681511377, len(b)) + b"".join(struct.pack("<i", k) + roaring32(v) for k, v in sorted(b.items()))


dvt = f"{root}/dv"
os.makedirs(f"{dvt}/_delta_log")
pq.write_table(pa.table({"id": pa.array([1, 2, 3, 4], pa.int64()), "v": ["a", "b", "c", "d"]}), f"{dvt}/part-0.parquet")
size = os.path.getsize(f"{dvt}/part-0.parquet")
schema = {"type": "struct", "fields": [{"name": "id", "type": "long", "nullable": True, "metadata": {}},
                                       {"name": "v", "type": "string", "nullable": True, "metadata": {}}]}
stats = json.dumps({"numRecords": 4, "minValues": {"id": 1, "v": "a"}, "maxValues": {"id": 4, "v": "d"}, "nullCount": {"id": 0, "v": 0}})
add = {"path": "part-0.parquet", "partitionValues": {}, "size": size, "modificationTime": 1, "dataChange": True, "stats": stats}
v0 = [{"protocol": {"minReaderVersion": 3, "minWriterVersion": 7, "readerFeatures": ["deletionVectors"], "writerFeatures": ["deletionVectors"]}},
      {"metaData": {"id": str(uuid.uuid4()), "format": {"provider": "parquet", "options": {}}, "schemaString": json.dumps(schema),
                    "partitionColumns": [], "configuration": {"delta.enableDeletionVectors": "true"}, "createdTime": 1}},
      {"add": add}]
u = uuid.uuid4()
dv = dv_bytes([1, 3])
with open(f"{dvt}/deletion_vector_{u}.bin", "wb") as f:
    f.write(b"\x01" + struct.pack(">i", len(dv)) + dv + struct.pack(">I", zlib.crc32(dv)))
descriptor = {"storageType": "u", "pathOrInlineDv": z85(u.bytes), "offset": 1, "sizeInBytes": len(dv), "cardinality": 2}
v1 = [{"remove": {"path": "part-0.parquet", "deletionTimestamp": 2, "dataChange": True, "partitionValues": {}, "size": size}},
      {"add": dict(add, deletionVector=descriptor)}]
for version, actions in enumerate([v0, v1]):
    with open(f"{dvt}/_delta_log/{version:020}.json", "w") as f:
        f.write("".join(json.dumps(a) + "\n" for a in actions))

# Change data feed: updates, deletes and a merge write cdc files; a partition-only delete
# writes only a remove. Pauses give each commit its own time.
cdf = f"{root}/cdf"
facts["cdf_between"] = {}
cdf_steps = [
    lambda: write_deltalake(cdf, batch([1, 2, 3, 4], "eu"), partition_by=["region"],
                            configuration={"delta.enableChangeDataFeed": "true"}),
    lambda: write_deltalake(cdf, batch([5, 6], "us"), mode="append"),
    lambda: DeltaTable(cdf).update(updates={"name": "'updated'"}, predicate="id = 1"),
    lambda: DeltaTable(cdf).delete("id = 3"),
    lambda: (DeltaTable(cdf).merge(batch([4, 7], "eu", [40.0, 70.0]), predicate="t.id = s.id", source_alias="s", target_alias="t")
             .when_matched_update_all().when_not_matched_insert_all().execute()),
    lambda: DeltaTable(cdf).delete("region = 'us'"),
]
for version, step in enumerate(cdf_steps):
    step()
    time.sleep(0.3)
    facts["cdf_between"][str(version)] = now_iso()
    time.sleep(0.3)

# A table of another share, never granted to the regulator.
write_deltalake(f"{root}/secret", batch([42], "eu"))

with open(f"{root}/fixtures.json", "w") as out:
    json.dump(facts, out, indent=1)
sys.stdout.flush()
# Leave without interpreter teardown: now and then a native thread pool of the client stack
# aborts at exit ("terminate called without an active exception") after the work succeeded.
os._exit(0)
