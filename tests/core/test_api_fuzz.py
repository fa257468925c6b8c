"""Property-based API checks (schemathesis): generated inputs for every documented operation, sent
with a superuser's token and without any, never produce a 500."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

EXAMPLES_PER_OPERATION = 10


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
