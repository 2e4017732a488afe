"""A recipient's ordinary session with the real connector, for the audit ledger to record:
list the tables, load one, load its change feed. Prints what it read as JSON."""

import json
import os
import sys

import delta_sharing

profile, table = sys.argv[1:3]
url = f"{profile}#{table}"
tables = delta_sharing.SharingClient(profile).list_all_tables()
rows = len(delta_sharing.load_as_pandas(url))
changes = len(delta_sharing.load_table_changes_as_pandas(url, starting_version=0))
print(json.dumps({"tables": len(tables), "rows": rows, "changes": changes}), flush=True)
os._exit(0)
