"""Client suite: the real `delta_sharing` connector against a running fireshare.

Usage: checks.py CASE REGULATOR_PROFILE OUTSIDER_PROFILE FIXTURES_DIR
Each case asserts; a failed assertion exits non-zero with the reason.
"""
import json
import os
import sys
import time
import urllib.parse

import delta_sharing
import pyarrow as pa
import requests
from deltalake import DeltaTable, QueryBuilder

case, profile, outsider_profile, fixtures = sys.argv[1:5]
facts = json.load(open(f"{fixtures}/fixtures.json"))
endpoint = json.load(open(profile))["endpoint"]
token = json.load(open(profile))["bearerToken"]
auth = {"Authorization": f"Bearer {token}"}


def url(table):
    return f"{profile}#regulatory.default.{table}"


def oracle(table, version=None):
    """What the `deltalake` reader returns for the table (QueryBuilder handles every feature)."""
    dt = DeltaTable(f"{fixtures}/{table}", version=version)
    return pa.table(QueryBuilder().register("t", dt).execute("select * from t").read_all()).to_pandas()


def rows(df):
    """Rows as sorted tuples of strings, columns in name order: compares values, not dtypes."""
    return sorted(map(tuple, df[sorted(df.columns)].astype(str).values.tolist()))


def assert_same(shared, expected, what):
    assert sorted(shared.columns) == sorted(expected.columns), f"{what}: columns {list(shared.columns)} != {list(expected.columns)}"
    got, want = rows(shared), rows(expected)
    assert got == want, f"{what}: {len(got)} rows differ from deltalake's {len(want)}:\n{got}\n!=\n{want}"
    print(f"{what}: {len(got)} rows equal")


def query(table, body):
    r = requests.post(f"{endpoint}/shares/regulatory/schemas/default/tables/{table}/query", json=body, headers=auth)
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines()]


def case_list_tables():
    tables = delta_sharing.SharingClient(profile).list_all_tables()
    names = sorted(f"{t.share}.{t.schema}.{t.name}" for t in tables)
    expected = ["cdf", "cm", "dv", "many", "ntz", "regions", "sales"]
    assert names == [f"regulatory.default.{t}" for t in expected], names
    others = sorted(t.name for t in delta_sharing.SharingClient(outsider_profile).list_all_tables())
    assert others == ["secret"], others
    shares = [s.name for s in delta_sharing.SharingClient(profile).list_shares()]
    assert shares == ["regulatory"], shares


def case_latest():
    for table in ["sales", "regions", "many"]:
        assert_same(delta_sharing.load_as_pandas(url(table)), oracle(table), f"{table} latest")


def case_version():
    for version in [0, 3, 4, 5]:
        shared = delta_sharing.load_as_pandas(url("sales"), version=version)
        assert_same(shared, oracle("sales", version), f"sales at version {version}")


def case_timestamp():
    # Everything resolved by time, whose commit times are the commit files' times.
    for version in ["1", "4"]:
        ts = facts["sales_between"][version]
        shared = delta_sharing.load_as_pandas(url("sales"), timestamp=ts)
        assert_same(shared, oracle("sales", int(version)), f"sales at {ts} (after version {version})")
    after_v1 = facts["cdf_between"]["1"]
    shared = delta_sharing.load_table_changes_as_pandas(url("cdf"), starting_timestamp=after_v1)
    assert_same(shared.drop(columns=["_commit_timestamp"]), cdf_oracle(2), f"changes from {after_v1}")
    ts = facts["sales_between"]["2"]
    assert delta_sharing.get_table_version(url("sales"), starting_timestamp=ts) == 3


def case_limit():
    full = rows(oracle("regions"))
    for limit in [1, 7]:
        shared = delta_sharing.load_as_pandas(url("regions"), limit=limit)
        assert len(shared) == limit, f"limit {limit}: got {len(shared)} rows"
        assert set(rows(shared)) <= set(full), "limited rows are not rows of the table"
    # limitHint lets the server stop early: fewer files than the whole table.
    assert len(query("regions", {"limitHint": 1})) - 2 < len(query("regions", {})) - 2


def case_predicate():
    hint = json.dumps({"op": "equal", "children": [
        {"op": "column", "name": "region", "valueType": "string"},
        {"op": "literal", "value": "us", "valueType": "string"}]})
    all_files = [l for l in query("regions", {}) if "file" in l]
    us_files = [l for l in query("regions", {"jsonPredicateHints": hint}) if "file" in l]
    assert 0 < len(us_files) < len(all_files), (len(us_files), len(all_files))
    assert all(f["file"]["partitionValues"]["region"] == "us" for f in us_files)
    # limitHint never cuts a hinted listing: kept files may hold no matching row.
    assert len(query("regions", {"jsonPredicateHints": hint, "limitHint": 1})) == len(us_files) + 2
    shared = delta_sharing.load_as_pandas(url("regions"), jsonPredicateHints=hint)
    expected = oracle("regions")
    assert_same(shared, expected[expected.region == "us"], "regions where region = 'us'")


def case_delta_format():
    # Tables whose parquet files alone would read wrong: the connector autoresolves to delta.
    for table in ["dv", "cm", "ntz"]:
        expected = oracle(table)
        assert_same(delta_sharing.load_as_pandas(url(table)), expected, f"{table} (autoresolved)")
        assert_same(delta_sharing.load_as_pandas(url(table), use_delta_format=True), expected, f"{table} (delta format)")
    assert len(oracle("dv")) == 2, "the deletion vector removes two of four rows"
    try:
        delta_sharing.load_as_pandas(url("dv"), use_delta_format=False)
        raise AssertionError("a DV table was served in the parquet format")
    except requests.HTTPError as e:
        assert e.response.status_code == 400 and e.response.json()["errorCode"] == "UNSUPPORTED_OPERATION", e
    # Plain tables read the same in both formats; the delta lines carry signed paths.
    assert_same(delta_sharing.load_as_pandas(url("sales"), use_delta_format=True), oracle("sales"), "sales (delta format)")
    headers = auth | {"delta-sharing-capabilities": "responseformat=delta;readerfeatures=deletionvectors"}
    r = requests.post(f"{endpoint}/shares/regulatory/schemas/default/tables/dv/query", json={}, headers=headers)
    assert r.headers["delta-sharing-capabilities"] == "responseformat=delta", r.headers
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert lines[0]["protocol"]["deltaProtocol"]["readerFeatures"] == ["deletionVectors"], lines[0]
    dv = lines[2]["file"]["deltaSingleAction"]["add"]["deletionVector"]
    assert dv["storageType"] == "p" and ("X-Amz-Signature=" in dv["pathOrInlineDv"] or "sig=" in dv["pathOrInlineDv"]), dv
    assert requests.get(dv["pathOrInlineDv"]).status_code == 200


def cdf_oracle(start, end=None):
    dt = DeltaTable(f"{fixtures}/cdf")
    df = pa.table(dt.load_cdf(starting_version=start, ending_version=end).read_all()).to_pandas()
    return df.drop(columns=["_commit_timestamp"])


def case_changes():
    table = url("cdf")
    for fmt in [False, True]:
        what = "delta" if fmt else "parquet"
        shared = delta_sharing.load_table_changes_as_pandas(table, starting_version=0, use_delta_format=fmt)
        assert_same(shared.drop(columns=["_commit_timestamp"]), cdf_oracle(0), f"changes 0.. ({what})")
        shared = delta_sharing.load_table_changes_as_pandas(table, starting_version=2, ending_version=4, use_delta_format=fmt)
        assert_same(shared.drop(columns=["_commit_timestamp"]), cdf_oracle(2, 4), f"changes 2..4 ({what})")
    bad = requests.get(f"{endpoint}/shares/regulatory/schemas/default/tables/cdf/changes", params={"startingVersion": 4, "endingVersion": 2}, headers=auth)
    expect_error(bad, 400, "INVALID_PARAMETER_VALUE")
    missing = requests.get(f"{endpoint}/shares/regulatory/schemas/default/tables/cdf/changes", headers=auth)
    expect_error(missing, 400, "INVALID_PARAMETER_VALUE")
    no_feed = requests.get(f"{endpoint}/shares/regulatory/schemas/default/tables/sales/changes", params={"startingVersion": 0}, headers=auth)
    expect_error(no_feed, 400, "INVALID_PARAMETER_VALUE")


def case_streaming():
    """startingVersion on /query (what Spark streaming sends): every data-changing add/remove."""
    target = f"{endpoint}/shares/regulatory/schemas/default/tables/cdf/query"
    r = requests.post(target, json={"startingVersion": 1, "endingVersion": 4}, headers=auth)
    assert r.status_code == 200 and r.headers["delta-table-version"] == "1", r.text
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert lines[1]["metaData"]["version"] == 1, lines[1]
    got = sorted((k, l[k]["version"]) for l in lines[2:] for k in l if k in ("add", "remove"))
    assert all(l[k]["timestamp"] > 0 for l in lines[2:] for k in l if k in ("add", "remove"))
    want = []  # the oracle is the log itself
    for version in range(1, 5):
        for line in open(f"{fixtures}/cdf/_delta_log/{version:020}.json"):
            action = json.loads(line)
            for kind in ("add", "remove"):
                if kind in action and action[kind].get("dataChange", True):
                    want.append((kind, version))
    assert got == sorted(want) and got, (got, want)
    expect_error(requests.post(target, json={"startingVersion": 1, "endingVersion": 99}, headers=auth), 400, "INVALID_PARAMETER_VALUE")
    expect_error(requests.post(target, json={"startingVersion": -1}, headers=auth), 400, "INVALID_PARAMETER_VALUE")
    not_history = f"{endpoint}/shares/regulatory/schemas/default/tables/regions/query"
    expect_error(requests.post(not_history, json={"startingVersion": 0}, headers=auth), 400, "INVALID_PARAMETER_VALUE")


def case_table_version():
    assert delta_sharing.get_table_version(url("sales")) == 6


def case_paging():
    names, token, pages = [], None, 0
    while True:
        params = {"maxResults": 1} | ({"pageToken": token} if token else {})
        r = requests.get(f"{endpoint}/shares/regulatory/all-tables", params=params, headers=auth)
        assert r.status_code == 200, r.text
        body = r.json()
        names += [t["name"] for t in body["items"]]
        pages += 1
        token = body.get("nextPageToken")
        if not token:
            break
    assert names == ["cdf", "cm", "dv", "many", "ntz", "regions", "sales"] and pages == 7, (names, pages)
    forged = requests.get(f"{endpoint}/shares/regulatory/schemas", params={"pageToken": "x.y"}, headers=auth)
    expect_error(forged, 400, "INVALID_PARAMETER_VALUE")
    # The deprecated HEAD of a table answers its version, names match case-insensitively.
    head = requests.head(f"{endpoint}/shares/REGULATORY/schemas/Default/tables/SALES", headers=auth)
    assert head.status_code == 200 and head.headers["delta-table-version"] == "6", head.headers


def expect_error(response, status, code):
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    body = response.json()
    assert body["errorCode"] == code and body["message"], body


def same_refusal(method, hidden_path, missing_path, json=None):
    """The answers for an existing but ungranted object and for a missing one are the same
    bytes once the two names are swapped, with the same headers but for the request id."""
    hidden = requests.request(method, f"{endpoint}{hidden_path}", headers=auth, json=json)
    missing = requests.request(method, f"{endpoint}{missing_path}", headers=auth, json=json)
    expect_error(hidden, 404, "RESOURCE_DOES_NOT_EXIST")
    assert hidden.content.replace(b"hidden", b"NAME").replace(b"secret", b"TABLE") == \
        missing.content.replace(b"nonexistent", b"NAME").replace(b"nothing", b"TABLE"), (hidden.text, missing.text)
    names = lambda r: sorted(k.lower() for k in r.headers if k.lower() not in ("x-request-id", "date"))
    assert names(hidden) == names(missing), (hidden.headers, missing.headers)


def case_not_granted():
    # The outsider's share exists but is not granted: indistinguishable from a missing one.
    same_refusal("GET", "/shares/hidden", "/shares/nonexistent")
    same_refusal("GET", "/shares/hidden/schemas", "/shares/nonexistent/schemas")
    same_refusal("GET", "/shares/hidden/all-tables", "/shares/nonexistent/all-tables")
    table = "/shares/{}/schemas/default/tables/{}"
    for tail, method, body in [("/query", "POST", {}), ("/metadata", "GET", None), ("/version", "GET", None)]:
        same_refusal(method, table.format("hidden", "secret") + tail, table.format("nonexistent", "nothing") + tail, body)
    try:
        delta_sharing.load_as_pandas(f"{profile}#hidden.default.secret")
        raise AssertionError("reading an ungranted table succeeded")
    except requests.HTTPError as e:
        assert e.response.status_code == 404, e


def case_wrong_token():
    bad = {"Authorization": "Bearer fsr_not-a-real-token"}
    expect_error(requests.get(f"{endpoint}/shares", headers=bad), 401, "UNAUTHENTICATED")
    expect_error(requests.get(f"{endpoint}/shares"), 401, "UNAUTHENTICATED")


def case_file_urls():
    file_url = next(l["file"]["url"] for l in query("sales", {}) if "file" in l)
    whole = requests.get(file_url)
    assert whole.status_code == 200 and whole.content[:4] == b"PAR1", whole.status_code
    ranged = requests.get(file_url, headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 206 and ranged.content == b"PAR1", ranged.status_code
    head = requests.head(file_url)
    assert int(head.headers["Content-Length"]) == len(whole.content)
    signature = file_url.rsplit("=", 1)[1]
    tampered = file_url[: -len(signature)] + ("0" if signature[0] != "0" else "1") + signature[1:]
    expect_error(requests.get(tampered), 403, "PERMISSION_DENIED")
    other_path = file_url.replace(".parquet?", ".parquet.x?")
    expect_error(requests.get(other_path), 403, "PERMISSION_DENIED")


def case_presigned_urls():
    # Tables on a cloud store: the URLs are the store's own presigned URLs (S3 SigV4 or an
    # Azure SAS), not this server's, and the store checks them.
    line = next(l for l in query("sales", {}) if "file" in l)["file"]
    file_url = line["url"]
    assert not file_url.startswith(endpoint.rsplit("/", 1)[0]), file_url
    parts = urllib.parse.urlsplit(file_url)
    params = urllib.parse.parse_qsl(parts.query)
    signature = "X-Amz-Signature" if "X-Amz-Signature" in dict(params) else "sig"
    assert signature in dict(params), file_url
    # A URL signed by an earlier case may be handed out again while 3/4 of its hour is left.
    left = line["expirationTimestamp"] / 1000 - time.time()
    assert 2700 - 5 <= left <= 3600 + 5, line
    whole = requests.get(file_url)
    assert whole.status_code == 200 and whole.content[:4] == b"PAR1", whole.status_code
    ranged = requests.get(file_url, headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 206 and ranged.content == b"PAR1", ranged.status_code

    def with_params(pairs):
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(pairs)))

    def forged(value):
        return ("0" if value[0] != "0" else "1") + value[1:]

    tampered = with_params([(k, forged(v) if k == signature else v) for k, v in params])
    assert requests.get(tampered).status_code == 403, "tampered"
    unsigned = with_params([(k, v) for k, v in params if k != signature])
    assert requests.get(unsigned).status_code == 403, "unsigned"
    other_path = file_url.replace(".parquet?", ".parquet.x?")
    assert requests.get(other_path).status_code == 403, "another file"


globals()[f"case_{case}"]()
print(f"{case}: ok")
sys.stdout.flush()
# Leave without interpreter teardown: now and then a native thread pool of the client stack
# aborts at exit ("terminate called without an active exception") after the work succeeded.
os._exit(0)
