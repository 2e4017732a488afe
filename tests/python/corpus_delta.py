"""Reads corpus tables with the real connector, letting it pick the response format.

Usage: corpus_delta.py PROFILE TABLES_JSON
    (TABLES_JSON: [[table, rows, {version: rows}, undeclared feature or null], ...])
Prints one line per table; exits 1 if any table read back the wrong number of rows, or was
refused when it needs no feature the connector leaves undeclared, or was not refused (naming
the feature) when it needs one.
"""
import json
import os
import sys
import traceback

import delta_sharing
import requests

profile, tables = sys.argv[1], json.loads(sys.argv[2])
failures = 0
for name, rows, versions, undeclared in tables:
    url = f"{profile}#corpus.corpus.{name}"
    try:
        got = len(delta_sharing.load_as_pandas(url))
        assert undeclared is None, f"read although it needs {undeclared}, which the connector does not declare"
        assert got == rows, f"{got} rows, expected {rows}"
        for version, expected in versions.items():
            got = len(delta_sharing.load_as_pandas(url, version=int(version)))
            assert got == expected, f"version {version}: {got} rows, expected {expected}"
        print(f"{name}: ok ({rows} rows)")
    except requests.HTTPError as e:
        body = e.response.json() if e.response is not None else {}
        message = body.get("message", "")
        if undeclared and e.response.status_code == 400 and "did not declare" in message and undeclared in message:
            print(f"{name}: refused as it must be: {message}")
            continue
        failures += 1
        print(f"{name}: FAILED: {e} {body}")
    except Exception as e:  # noqa: BLE001 - every failure is reported, then counted
        failures += 1
        print(f"{name}: FAILED: {e}\n{traceback.format_exc(limit=2)}")
sys.stdout.flush()
# Leave without interpreter teardown: now and then a native thread pool of the client stack
# aborts at exit ("terminate called without an active exception") after the work succeeded.
os._exit(1 if failures else 0)
