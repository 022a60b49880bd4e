"""`?wait=N` ends before the API function's own timeout: a caller whose execution is still running
gets 202 with the execution to follow, never a 502 from a function that ran out its time."""

from __future__ import annotations

import json
import uuid

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from workflows.definitions import catalog
from workflows.local.api_gateway import proxy_event
from workflows.local.clock import RealClock
from workflows.local.lambda_runtime import LambdaContext

from .fleet_steps import car_request, register, ride


def _invoke_api(fleet, method: str, path: str, body: dict, remaining_s: float) -> tuple[int, dict]:
    """FleetApi's handler with an invocation that has `remaining_s` left of its timeout."""
    import api  # lambdas/api.py, on the path once the local cloud runs

    builder = EnvironBuilder(path=path.split("?")[0], query_string=path.partition("?")[2], method=method,
                             data=json.dumps(body), content_type="application/json")
    event = proxy_event(Request(builder.get_environ()), json.dumps(body).encode(), str(uuid.uuid4()))
    clock = RealClock()  # the function's deadline runs in real time, as on Lambda
    context = LambdaContext(catalog.function("FleetApi"), str(uuid.uuid4()), clock, clock.now() + remaining_s)
    answer = api.handler(event, context)
    assert context.get_remaining_time_in_millis() > 0, "the function ran out its time before answering"
    return answer["statusCode"], json.loads(answer["body"])


def test_wait_is_capped_below_the_functions_timeout_so_a_running_execution_answers_202(fleet):
    register(fleet, car_request(1))
    # The ride waits for its trip's completion: still RUNNING however long the caller waits. With
    # 3.5 s of the function's time left, ?wait=29 waits 0.5 s and answers 202 with the execution.
    status, body = _invoke_api(fleet, "POST", "/rides?wait=29", ride("r-wait"), remaining_s=3.5)
    assert status == 202, body
    assert body["status"] == "RUNNING" and body["execution_arn"].endswith(body["links"]["execution"].rsplit("/", 1)[-1])


def test_wait_budget_leaves_the_answer_its_margin():
    from fleet_api import executions
    from fleet_api.app import app

    class Remaining:
        def __init__(self, s: float):
            self.s = s

        def get_remaining_time_in_millis(self) -> int:
            return int(self.s * 1000)

    timeout = catalog.function("FleetApi").timeout_s
    for remaining, asked, expected in ((timeout, 29, timeout - executions.ANSWER_MARGIN_S), (timeout, 5, 5),
                                       (2.0, 29, 0.0)):
        app.lambda_context = Remaining(remaining)
        try:
            assert executions.wait_budget(asked) == expected
        finally:
            app.lambda_context = None
    assert timeout - executions.ANSWER_MARGIN_S < 29  # ?wait=29, API Gateway's limit, always answers in time
