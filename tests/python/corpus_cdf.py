"""Reads the change data feed of corpus tables with the real connector.

Usage: corpus_cdf.py PROFILE CASES_JSON
CASES_JSON: [[table, start_version|null, end_version|null, start_timestamp|null, rows, by_change_type], ...]
Parquet format first; tables that need the delta format (deletion vectors, column mapping)
are read with use_delta_format=True. Prints one line per case; exits 1 on any mismatch.
"""
import json
import os
import sys

import delta_sharing
import requests

profile, cases = sys.argv[1], json.loads(sys.argv[2])
failures = 0
for name, start, end, start_ts, rows, by_type in cases:
    url = f"{profile}#corpus.corpus.{name}"
    args = dict(starting_version=start, ending_version=end, starting_timestamp=start_ts)
    try:
        try:
            df = delta_sharing.load_table_changes_as_pandas(url, **args)
        except requests.HTTPError as e:
            if e.response.status_code != 400 or e.response.json().get("errorCode") != "UNSUPPORTED_OPERATION":
                raise
            df = delta_sharing.load_table_changes_as_pandas(url, use_delta_format=True, **args)
        assert len(df) == rows, f"{len(df)} change rows, expected {rows}"
        counts = df["_change_type"].value_counts().to_dict()
        standard = {"insert", "delete", "update_preimage", "update_postimage"}
        if set(by_type) <= standard:
            assert counts == by_type, f"change types {counts}, expected {by_type}"
        print(f"{name} {args}: ok ({rows} rows)")
    except Exception as e:  # noqa: BLE001 - every failure is reported, then counted
        failures += 1
        print(f"{name} {args}: FAILED: {e}")
sys.stdout.flush()
# Leave without interpreter teardown: now and then a native thread pool of the client stack
# aborts at exit ("terminate called without an active exception") after the work succeeded.
os._exit(1 if failures else 0)
