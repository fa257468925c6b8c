"""Property-based API checks (schemathesis): generated inputs for every documented operation, sent
with a superuser's token and without any, never produce a 500. Then each operation's generated
case is bent at one field at a time towards the edges — extreme dates, huge numbers, zero-width and
right-to-left text, deep nesting — and still never produces a 500."""

from __future__ import annotations

import json

import schemathesis
from hypothesis import HealthCheck, given, settings

EXAMPLES_PER_OPERATION = 10

EXTREME_DATES = ["9999-12-31", "0001-01-01", "1899-12-31", "2101-01-01", "1900-01-01", "2100-12-31"]
EXTREME_DATETIMES = [
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00+14:00",
    "1900-01-01T00:00:00+14:00",
    "2100-12-31T23:59:59-12:00",
]
EXTREME_NUMBERS = [10**30, -(10**30), -1, 0, 2**63, 1e308, -1e308]
ODD_TEXTS = ["\u200b", "\ufeff", "\u202e", "\u202eabc\u202c", "a\u200bb\ufeffc", "\u200b2026-01-01"]
DEEP = 30  # under the JSON depth limit: the validators and services see it
TOO_DEEP = 1000  # over it: refused before any parser recurses


def _resolve(schema: dict, doc: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"].get(name) or doc.get("definitions", {}).get(name, {})
    return schema


def _extremes(schema: dict, doc: dict) -> list:
    """Edge values for a field of this schema (every branch of an anyOf contributes)."""
    schema = _resolve(schema, doc)
    values: list = []
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        values += _extremes(branch, doc)
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "string" and fmt == "date":
        values += EXTREME_DATES
    elif kind == "string" and fmt == "date-time":
        values += EXTREME_DATETIMES
    elif kind == "string":
        values += ODD_TEXTS
    elif kind in ("integer", "number"):
        values += EXTREME_NUMBERS
    elif kind == "array":
        values += [[value] for value in _extremes(schema.get("items", {}), doc)[:3]]
    unique: list = []
    for value in values:
        if value not in unique:
            unique.append(value)
    return unique


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _variants(case, op: dict, doc: dict):
    """(label, Case) pairs: the generated case with one field bent to an edge value."""
    make = case.operation.Case
    for param in op.get("parameters", []):
        where, name = param["in"], param["name"]
        for value in _extremes(param.get("schema", {}), doc):
            if where == "query":
                yield (
                    f"query {name}={value!r}",
                    make(
                        path_parameters=case.path_parameters, query={**(case.query or {}), name: value}, body=case.body
                    ),
                )
            elif where == "path":
                yield (
                    f"path {name}={value!r}",
                    make(
                        path_parameters={**(case.path_parameters or {}), name: value}, query=case.query, body=case.body
                    ),
                )
    content = (op.get("requestBody") or {}).get("content", {})
    if "application/json" not in content or not isinstance(case.body, dict):
        return
    body_schema = _resolve(content["application/json"]["schema"], doc)
    for name, prop in body_schema.get("properties", {}).items():
        for value in [*_extremes(prop, doc), json.loads(_nested(DEEP))]:
            yield (
                f"body {name}={value!r:.40}",
                make(path_parameters=case.path_parameters, query=case.query, body={**case.body, name: value}),
            )


def _send_raw(client, case, headers, raw: str):
    path = case.formatted_path
    return client.open(path, method=case.method, data=raw, content_type="application/json", headers=headers)


def test_no_operation_answers_500(app, make_user, auth_header):
    headers = auth_header(make_user("superuser"))
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI document lists no operations"

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def exercise(case):
            for auth in (headers, {}):
                response = case.call(headers=auth)
                if response.status_code >= 500:
                    failures.append(f"{case.operation.label}: {response.status_code} for {case.body!r} {case.query!r}")

        exercise()
    assert failures == [], "\n".join(sorted(set(failures))[:30])


def _bend(operation, doc, client, headers, failures, sent):
    """A hypothesis test for one operation: its first generated case, bent field by field."""
    op = doc["paths"][operation.path][operation.method.lower()]
    headers = headers["bot"] if operation.path.startswith("/api/bot/") else headers["jwt"]

    @settings(max_examples=1, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def bend(case):
        for label, variant in _variants(case, op, doc):
            sent["cases"] += 1
            response = variant.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{operation.label} {label}: {response.status_code}")
        if operation.method.upper() in ("POST", "PUT", "PATCH"):
            sent["deep"] += 1
            response = _send_raw(client, case, headers, _nested(TOO_DEEP))
            if response.status_code != 400:
                failures.append(f"{operation.label} nested {TOO_DEEP} deep: {response.status_code}")

    return bend


def test_edge_values_never_answer_500(app, client, make_user, auth_header):
    # The bot API (seed 002) takes the shared secret; the rest a superuser's token.
    headers = {
        "jwt": auth_header(make_user("superuser")),
        "bot": {"Authorization": f"Bearer {app.config['TELEGRAM_BOT_API_SECRET']}"},
    }
    doc = client.get("/api/openapi.json").json
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures: list[str] = []
    sent = {"cases": 0, "deep": 0}

    for operation in [result.ok() for result in schema.get_all_operations()]:
        _bend(operation, doc, client, headers, failures, sent)()
    assert sent["cases"] > 500 and sent["deep"] > 30, sent
    assert failures == [], "\n".join(sorted(set(failures))[:40])
