"""Prints how many rows the real connector reads from the table URL given (profile#share.schema.table)."""

import sys

import delta_sharing

print(len(delta_sharing.load_as_pandas(sys.argv[1])))
