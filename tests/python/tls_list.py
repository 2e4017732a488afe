"""Lists the tables a profile can read (share.schema.table, one per line) with the real connector."""

import os
import sys

import delta_sharing

client = delta_sharing.SharingClient(sys.argv[1])
for table in client.list_all_tables():
    print(f"{table.share}.{table.schema}.{table.name}", flush=True)
os._exit(0)
