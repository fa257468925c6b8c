"""Every operation in ``/api/openapi.json`` says what it answers (issue 13): a 2xx with a schema — a
JSON model, or binary for the two file downloads — or a 204 without a body; and its error answers
are the platform's error bodies, not spectree's default validation model.

spectree checks each answer against the model declared for its status, so a model that drifts from
its payload turns the answer into a 500: the vertical's API tests and the fuzz test
(``test_api_fuzz.py``) catch that; these tests catch an operation that declares nothing.
"""

from __future__ import annotations

import re

from webapp.core.schemas import DetailBody, ErrorBody, TokenErrorBody

METHODS = {"get", "post", "put", "patch", "delete"}
COMPONENT_NAME = re.compile(r"^[A-Za-z0-9._-]+$")  # OpenAPI's rule for component keys


def _operations(doc: dict) -> list[tuple[str, str, dict]]:
    return [
        (path, method, op) for path, item in doc["paths"].items() for method, op in item.items() if method in METHODS
    ]


def _refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_every_operation_documents_a_2xx_schema(client):
    doc = client.get("/api/openapi.json").get_json()
    operations = _operations(doc)
    missing = []
    for path, method, op in operations:
        successes = {code: answer for code, answer in op["responses"].items() if code.startswith("2")}
        if not successes:
            missing.append(f"{method.upper()} {path}: no 2xx answer")
        for code, answer in successes.items():
            schemas = [media.get("schema") for media in (answer.get("content") or {}).values()]
            if code == "204":
                assert not schemas, f"{method.upper()} {path}: a 204 has no body"
            elif not any(schemas):
                missing.append(f"{method.upper()} {path}: {code} without a schema")
    assert len(operations) > 130
    assert missing == []


def test_only_the_file_downloads_answer_bytes(client):
    doc = client.get("/api/openapi.json").get_json()
    binary = {
        (method.upper(), path): next(iter(op["responses"]["200"]["content"]))
        for path, method, op in _operations(doc)
        if "application/json" not in (op["responses"].get("200", {}).get("content") or {"application/json": 1})
    }
    assert binary == {
        ("GET", "/api/v1/files/{file_id}"): "application/octet-stream",
        ("GET", "/api/bot/documents/download/{token}/"): "application/pdf",
    }


def test_every_reference_resolves_to_a_plain_component(client):
    doc = client.get("/api/openapi.json").get_json()
    components = doc["components"]["schemas"]
    assert all(COMPONENT_NAME.match(name) for name in components), [
        n for n in components if not COMPONENT_NAME.match(n)
    ]
    dangling = {ref for ref in _refs(doc) if ref.rsplit("/", 1)[-1] not in components}
    assert dangling == set()


def test_validation_errors_are_documented_as_the_platform_error_body(client):
    """A 422 is raised by request validation before any seed's shape applies: always the error body."""
    doc = client.get("/api/openapi.json").get_json()
    wrong = []
    for path, method, op in _operations(doc):
        validated = op.get("requestBody") or any(p["in"] == "query" for p in op.get("parameters", []))
        answer = op["responses"].get("422")
        if not validated and answer is None:
            continue
        ref = (answer or {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
        if not ref.rsplit("/", 1)[-1].startswith("ErrorBody."):
            wrong.append(f"{method.upper()} {path}: {ref or 'no 422'}")
    assert wrong == []


def test_the_error_models_describe_the_bodies_served(client, make_user, auth_header):
    headers = auth_header(make_user("user"))
    invalid = client.post("/api/v1/tickets", json={"title": ""}, headers=headers)
    assert invalid.status_code == 422
    ErrorBody.model_validate(invalid.get_json())
    not_found = client.get("/api/v1/tickets/00000000-0000-0000-0000-000000000000", headers=headers)
    assert not_found.status_code == 404
    ErrorBody.model_validate(not_found.get_json())
    seed_000 = client.get("/api/balance/", headers={"Authorization": "Bearer not-a-token"})
    assert seed_000.status_code == 401
    TokenErrorBody.model_validate(seed_000.get_json())
    seed_004 = client.get("/api/reports/daily/")
    assert seed_004.status_code == 401
    DetailBody.model_validate(seed_004.get_json())
