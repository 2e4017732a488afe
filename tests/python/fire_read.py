"""Reads a shared table with the real connector, at its latest version or at the version given,
and prints {"rows": n} or {"error": "..."} as JSON; with `metadata` instead of a version, prints
the `configuration` of the table's metadata as the connector reads it."""

import json
import os
import sys

import delta_sharing

url = sys.argv[1]
if sys.argv[2:] == ["metadata"]:
    print(json.dumps(delta_sharing.get_table_metadata(url).configuration), flush=True)
    os._exit(0)
version = int(sys.argv[2]) if len(sys.argv) > 2 else None
try:
    rows = len(delta_sharing.load_as_pandas(url, version=version))
    print(json.dumps({"rows": rows}), flush=True)
except Exception as e:  # the connector raises requests' HTTPError with the server's message
    print(json.dumps({"error": str(e)}), flush=True)
os._exit(0)
