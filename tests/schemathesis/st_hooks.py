"""Schemathesis hooks for fireshare: validate ndjson table responses line by line.

Schemathesis 4 has no deserializer for `application/x-ndjson`, so `response_schema_conformance`
skips /metadata, /query and /changes (warning "Schema validation skipped"). This check parses
every line of a 2xx ndjson body and validates it against the media type's schema in the spec
(the schema describes ONE line, `ResponseLine`), plus the line order the protocol requires.

Load with `--config-file` (`hooks = "st_hooks.py"`) or `SCHEMATHESIS_HOOKS=path/to/st_hooks.py`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema_rs
import schemathesis

_VALIDATORS: dict[tuple[int, str, str], Any] = {}


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects -> JSON Schema (nullable, drop annotations jsonschema ignores)."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _to_json_schema(value) for key, value in node.items() if key not in ("example", "nullable")}
    if node.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def _resolve(root: dict, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        path = node["$ref"].removeprefix("#/").split("/")
        node = root
        for part in path:
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _line_validator(case: Any, status: int) -> Any | None:
    operation = case.operation
    root = operation.schema.raw_schema
    key = (id(root), f"{operation.method} {operation.path}", str(status))
    if key in _VALIDATORS:
        return _VALIDATORS[key]
    responses = operation.definition.raw.get("responses", {})
    response = _resolve(root, responses.get(str(status)) or responses.get(f"{str(status)[0]}XX"))
    media = (response or {}).get("content", {}).get("application/x-ndjson")
    validator = None
    if media and "schema" in media:
        document = {"components": _to_json_schema(copy.deepcopy(root.get("components", {})))}
        document.update(_to_json_schema(copy.deepcopy(media["schema"])))
        validator = jsonschema_rs.Draft4Validator(document)
    _VALIDATORS[key] = validator
    return validator


@schemathesis.check
def ndjson_response_lines(ctx, response, case):
    """Every line of a 2xx application/x-ndjson response is one JSON object matching the spec."""
    content_type = response.headers.get("content-type", [""])[0]
    if not (200 <= response.status_code < 300) or not content_type.startswith("application/x-ndjson"):
        return None
    validator = _line_validator(case, response.status_code)
    text = response.content.decode("utf-8")
    if not text.endswith("\n"):
        raise AssertionError("ndjson body does not end with a newline (truncated stream?)")
    lines = text.split("\n")[:-1]
    keys = []
    for number, line in enumerate(lines, start=1):
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise AssertionError(f"line {number} is not JSON: {exc}: {line[:200]}") from None
        if not isinstance(value, dict) or len(value) != 1:
            raise AssertionError(f"line {number} is not an object with exactly one key: {line[:200]}")
        keys.append(next(iter(value)))
        if validator is not None:
            errors = list(validator.iter_errors(value))
            if errors:
                details = "; ".join(f"{e.message} at {'/'.join(map(str, e.instance_path))}" for e in errors[:3])
                raise AssertionError(f"line {number} does not match the spec: {details}: {line[:300]}")
    if keys[:2] != ["protocol", "metaData"]:
        raise AssertionError(f"the first two lines must be protocol, metaData; got {keys[:2]}")
    if case.operation.path.endswith("/metadata") and len(keys) != 2:
        raise AssertionError(f"/metadata must answer exactly two lines; got {len(keys)}")
    if "endStreamAction" in keys[:-1]:
        raise AssertionError("endStreamAction must be the last line")
    return True
