"""Partition-filtered shares, through the real connector.

Usage:
  partitions.py write DIR                 -> DIR/exposures (partitioned by country_code, change
                                             feed on, three versions); facts in DIR/facts.json
  partitions.py read PROFILE COUNTRY DIR  -> reads the shared table every way the connector can
                                             and checks that it sees exactly COUNTRY's rows
  partitions.py count PROFILE             -> prints the rows of the latest version by country
"""
import json
import os
import sys
import time
from datetime import datetime, timezone

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake


def rows(ids, country):
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "amount": pa.array([i * 100.0 for i in ids], pa.float64()),
        "country_code": pa.array([country] * len(ids)),
    })


# What each version adds, by country.
VERSIONS = [
    {"FR": [1, 2, 3], "DE": [4, 5], "IT": [6]},
    {"FR": [7], "DE": [8, 9]},
    {"IT": [10], "DE": [11], "FR": [12, 13]},
]


def write(root):
    table = f"{root}/exposures"
    facts = {"after": []}
    for version, added in enumerate(VERSIONS):
        batch = pa.concat_tables([rows(ids, c) for c, ids in added.items()])
        if version == 0:
            write_deltalake(table, batch, partition_by=["country_code"],
                            configuration={"delta.enableChangeDataFeed": "true"})
        else:
            write_deltalake(table, batch, mode="append")
        time.sleep(0.3)
        facts["after"].append(datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"))
        time.sleep(0.3)
    assert DeltaTable(table).version() == len(VERSIONS) - 1
    with open(f"{root}/facts.json", "w") as f:
        json.dump(facts, f)


def expected_ids(country, version):
    return sorted(i for added in VERSIONS[: version + 1] for i in added.get(country, []))


def read(profile, country, root):
    import delta_sharing

    facts = json.load(open(f"{root}/facts.json"))
    url = f"{profile}#supervisors.fire.exposures"
    latest = len(VERSIONS) - 1

    def check(df, version, what):
        assert set(df["country_code"]) <= {country}, f"{what}: {sorted(set(df['country_code']))}"
        got = sorted(df["id"].tolist())
        assert got == expected_ids(country, version), f"{what}: {got} != {expected_ids(country, version)}"

    check(delta_sharing.load_as_pandas(url), latest, "latest")
    for fmt in (False, True):
        check(delta_sharing.load_as_pandas(url, use_delta_format=fmt), latest, f"latest, delta format {fmt}")
    for version in range(len(VERSIONS)):
        check(delta_sharing.load_as_pandas(url, version=version), version, f"version {version}")
    # A time after the last commit names no version yet (the server says 400).
    for version in range(len(VERSIONS) - 1):
        check(delta_sharing.load_as_pandas(url, timestamp=facts["after"][version]), version,
              f"timestamp after version {version}")
    limited = delta_sharing.load_as_pandas(url, limit=1)
    assert len(limited) == 1 and set(limited["country_code"]) == {country}, limited
    for fmt in (False, True):
        changes = delta_sharing.load_table_changes_as_pandas(url, starting_version=0, use_delta_format=fmt)
        assert set(changes["country_code"]) == {country}, f"changes: {set(changes['country_code'])}"
        assert sorted(changes["id"].tolist()) == expected_ids(country, latest), changes
        later = delta_sharing.load_table_changes_as_pandas(url, starting_version=1, ending_version=1,
                                                           use_delta_format=fmt)
        assert sorted(later["id"].tolist()) == VERSIONS[1].get(country, []), later
    print(f"{country}: every read holds exactly its rows", flush=True)


def count(profile):
    import delta_sharing

    df = delta_sharing.load_as_pandas(f"{profile}#supervisors.fire.exposures")
    print(json.dumps({c: int(n) for c, n in df.groupby("country_code").size().items()}), flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "write":
        write(sys.argv[2])
    elif mode == "read":
        read(*sys.argv[2:5])
    else:
        count(sys.argv[2])
    # Leave without interpreter teardown: now and then a native thread pool of the client
    # stack aborts at exit after the work succeeded.
    os._exit(0)
