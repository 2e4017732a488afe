"""Baseline for benches/fire.rs: row-by-row validation of collateral rows with jsonschema's
Draft7Validator (as the FIRE project's own CI validates), $refs resolved from the local schema
directory. Prints rows/s."""

import json
import pathlib
import sys
import time

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

schemas = pathlib.Path(sys.argv[1])
rows = int(sys.argv[2])
prefix = "https://raw.githubusercontent.com/SuadeLabs/fire/master/schemas/"
registry = Registry().with_resources(
    (prefix + p.name, Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT7))
    for p in schemas.glob("*.json")
    if p.name != "LICENSE"
)
validator = Draft7Validator(json.loads((schemas / "collateral.json").read_text()), registry=registry)

def row(i):
    r = {
        "id": f"col_{i:08}",
        "date": "2024-06-30T00:00:00Z",
        "value": 32_500_000 + i,
        "type": ["residential_property", "cash", "debenture"][i % 3],
        "currency_code": "gbp" if i % 100 == 0 else ["GBP", "EUR", "USD"][i % 3],
        "country_code": ["GB", "DE", "FR", "US-NY"][i % 4],
        "charge": -1 if i % 100 == 50 else i % 3,
    }
    if i % 3:
        r["regulatory_book"] = ["banking_book", "trading_book"][i % 2]
    if i % 2 == 0:
        r["encumbrance_amount"] = 5000
        r["loan_ids"] = ["loan_000001"]
    return r

data = [row(i) for i in range(rows)]
started = time.perf_counter()
passing = sum(1 for r in data if validator.is_valid(r))
seconds = time.perf_counter() - started
print(json.dumps({"rows": rows, "passing": passing, "rows_per_second": rows / seconds}), flush=True)
