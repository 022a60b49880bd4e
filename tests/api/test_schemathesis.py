"""Property-based API testing: schemathesis generates requests from /openapi.json and checks that
nothing answers 5xx and every response conforms to the schema. Bounded and seeded, so a run is
repeatable and quick.

(Driven through hypothesis directly rather than schemathesis' pytest plugin, which does not
work with pytest 9.)"""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings

from tests.servers import fleet_up

EXAMPLES_PER_OPERATION = 25


@pytest.fixture(scope="module")
def api_schema():
    up = fleet_up()
    yield schemathesis.openapi.from_url(f"{up.api_url}/openapi.json")
    assert up.stop() == 0


def operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


def test_the_schema_describes_every_route(api_schema):
    labels = {op.label for op in operations(api_schema)}
    assert {"POST /cars", "GET /cars", "GET /cars/{car_id}", "GET /executions/{execution_id}", "GET /health"} <= labels


def test_no_5xx_and_responses_conform_to_the_schema(api_schema):
    failures = []
    keys = itertools.count()
    for operation in operations(api_schema):

        @seed(20261124)
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            # ?wait makes register synchronous for up to N seconds; keep generated waits short.
            if case.query and isinstance(case.query.get("wait"), int):
                case.query["wait"] = min(case.query["wait"], 1)
            # A page token is opaque: only the API's own tokens are valid, which no schema can say
            # (test_surface.py checks that others are refused). Generated ones are left out.
            if case.query:
                case.query.pop("next_token", None)
            # An Idempotency-Key promises the same request: generated keys repeat across different
            # bodies, which the API rightly refuses (422, as the IETF draft says). One key per case.
            if case.headers and any(k.lower() == "idempotency-key" for k in case.headers):
                case.headers = {k: v for k, v in case.headers.items() if k.lower() != "idempotency-key"}
                case.headers["Idempotency-Key"] = str(next(keys))
            case.call_and_validate()

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
