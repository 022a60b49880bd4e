"""The console WSGI app on its own, through werkzeug's test client: the list, the execution pages,
the status a running page polls, the layout library, mounting, and what it refuses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client
from werkzeug.wrappers import Response

from workflows.console.app import console_app
from workflows.trace import html

from .conftest import NESTED_INPUT, NESTED_NAME, _until
from .test_html import Page


@pytest.fixture(scope="module")
def http(traced):
    return Client(console_app(traced.sfn))


def page_path(arn: str, prefix: str = "/console") -> str:
    return f"{prefix}/executions/{quote(arn, safe='')}"


def test_the_list_shows_executions_per_state_machine_each_linking_to_its_graph(traced, http):
    resp = http.get("/console")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    text = resp.get_data(as_text=True)
    boot = json.loads(re.search(r'<script type="application/json" id="console-data">(.*?)</script>', text).group(1))
    assert {"fleet-register-car", "fleet-dispatch-car", "fleet-maintain-car", NESTED_NAME} <= {
        m["name"] for m in boot["data"]["machines"]}
    for scenario, arn in traced.arns.items():
        assert f'href="{page_path(arn)}"' in text, scenario
    assert text.count('<tr class="execution FAILED"') == sum(
        traced.sfn.describe_execution(executionArn=a)["status"] == "FAILED" for a in traced.arns.values())
    assert 'http-equiv="refresh"' not in text  # the list updates over server-sent events instead
    assert http.get("/console/").status_code == 200


def test_the_list_shows_each_executions_outcome(traced, http):
    rows = {r["name"]: r for r in http.get("/console/api/executions").json["executions"]}
    expected = {"register_happy": "CarRegistered", "register_duplicate": "CarAlreadyRegistered",
                "register_rejected": "CarFailedInspection", "dispatch_no_car": "NoCarAvailable"}
    for scenario, outcome in expected.items():
        assert rows[traced.arns[scenario].rsplit(":", 1)[-1]]["outcome"] == outcome, scenario
    failed = rows[traced.arns["register_dlq"].rsplit(":", 1)[-1]]
    assert failed["status"] == "FAILED" and failed["outcome"] == traced.sfn.describe_execution(
        executionArn=traced.arns["register_dlq"])["error"]


def test_an_execution_page_is_the_graph_view_served_with_the_library_by_reference(traced, http):
    arn = traced.arns["maintenance_signed_off"]
    resp = http.get(page_path(arn))
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    page = Page(text)
    assert "PrepareRepair/Branches[1]/BookTechnician" in page.nodes
    assert [s.get("src") for s in page.scripts if s.get("src")] == ["/console/static/console.js", "/console/static/elk.js"]
    assert 'href="/console/"' in text  # back to the list
    assert page.data()["poll"] is None  # it has ended


def test_the_layout_library_is_served_from_node_modules(http):
    resp = http.get("/console/static/elk.js")
    version, path = html.layout_library()
    assert resp.status_code == 200 and resp.mimetype == "text/javascript"
    assert resp.get_data() == Path(path).read_bytes() and resp.headers["ETag"] == f'"elkjs-{version}"'


def test_status_is_what_a_running_page_polls(traced, http):
    arn = traced.arns["register_happy"]
    resp = http.get(page_path(arn) + "/status")
    assert resp.status_code == 200 and resp.json == {"status": "SUCCEEDED", "events": len(traced.trace("register_happy").events)}


def test_a_running_execution_refreshes_itself(traced, http):
    sfn, sqs = traced.sfn, traced.fleet.sqs
    queue = sqs.get_queue_url(QueueName="trace-operator")["QueueUrl"]
    arn = sfn.start_execution(stateMachineArn=traced.machine_arns["nested"], name="console-running",
                              input=json.dumps(NESTED_INPUT))["executionArn"]
    message = _until("the task token", lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages"))[0]
    try:
        stream = Client(console_app(traced.sfn, stream_s=0.2)).get("/console/api/stream")
        assert stream.mimetype == "text/event-stream"
        events = [chunk for chunk in stream.get_data(as_text=True).split("\n\n") if chunk.startswith("event: executions")]
        listed = json.loads(events[0].split("data: ", 1)[1])["executions"]
        assert any(e["arn"] == arn and e["status"] == "RUNNING" for e in listed)
        data = Page(http.get(page_path(arn)).get_data(as_text=True)).data()
        assert data["execution"]["status"] == "RUNNING"
        assert data["poll"]["url"] == page_path(arn) + "/status" and data["poll"]["events"] > 0
        assert data["focus"] == "AskOperator"  # the state waiting for its task token
        assert http.get(page_path(arn) + "/status").json["status"] == "RUNNING"
    finally:
        sfn.send_task_success(taskToken=json.loads(message["Body"])["token"], output="{}")
        traced.cloud.wait(arn)
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert http.get(page_path(arn) + "/status").json["status"] == "SUCCEEDED"


@pytest.mark.parametrize("mount", ["/console", "/ops/console"])
def test_mounted_by_script_name_links_stay_under_the_mount(traced, mount):
    app = DispatcherMiddleware(Response("not the console", 404), {mount: console_app(traced.sfn)})
    http = Client(app)
    text = http.get(f"{mount}/").get_data(as_text=True)
    arn = traced.arns["register_dlq"]
    assert f'href="{page_path(arn, mount)}"' in text
    page = http.get(page_path(arn, mount)).get_data(as_text=True)
    assert f'src="{mount}/static/elk.js"' in page
    assert http.get(f"{mount}/static/elk.js").status_code == 200
    assert http.get("/elsewhere").status_code == 404


def test_what_it_refuses(traced, http):
    missing = traced.arns["register_happy"].rsplit(":", 1)[0] + ":no-such-execution"
    assert http.get(page_path(missing)).status_code == 404
    assert http.get(page_path(missing) + "/status").status_code == 404
    assert http.get("/console/executions/not-an-arn").status_code == 404
    assert http.get("/console/nothing-here").status_code == 404
    assert http.get("/somewhere-else").status_code == 404
    resp = http.post("/console")
    assert resp.status_code == 405 and resp.headers["Allow"] == "GET, HEAD"
    resp = http.get("/console/api/stop")
    assert resp.status_code == 405 and resp.headers["Allow"] == "POST"
    head = http.head("/console")
    assert head.status_code == 200 and head.get_data() == b""


# --- actions: same origin and the console's token -------------------------------------------------

TOKEN = "test-token-0123456789"


@pytest.fixture(scope="module")
def acting(traced):
    return Client(console_app(traced.sfn, token=TOKEN))


def act(client, path: str, body: dict, **headers):
    headers = {"X-Console-Token": TOKEN, "Origin": "http://localhost", **headers}
    headers = {k: v for k, v in headers.items() if v is not None}
    return client.post(f"/console/api/{path}", data=json.dumps(body), content_type="application/json",
                       headers=headers)


@pytest.mark.parametrize("headers, status", [
    ({"X-Console-Token": None}, 403),
    ({"X-Console-Token": "guessed"}, 403),
    ({"Origin": "http://evil.example"}, 403),
    ({"Origin": "null"}, 403),
    ({"Sec-Fetch-Site": "cross-site"}, 403),
    ({"Sec-Fetch-Site": "same-site"}, 403),
])
def test_an_action_from_anywhere_but_the_consoles_page_is_refused(traced, acting, headers, status):
    before = traced.sfn.list_executions(stateMachineArn=traced.machine_arns["nested"])["executions"]
    resp = act(acting, "start", {"stateMachineArn": traced.machine_arns["nested"], "input": "{}"}, **headers)
    assert resp.status_code == status and resp.json["message"].startswith("refused")
    assert traced.sfn.list_executions(stateMachineArn=traced.machine_arns["nested"])["executions"] == before


def test_an_action_refuses_what_is_not_json_in_one_line(traced, acting):
    resp = acting.post("/console/api/start", data="x=1", content_type="application/x-www-form-urlencoded",
                       headers={"X-Console-Token": TOKEN})
    assert resp.status_code == 415
    resp = act(acting, "start", {"stateMachineArn": traced.machine_arns["nested"], "input": "{not json"})
    assert resp.status_code == 400 and "input is not valid JSON" in resp.json["message"]
    resp = act(acting, "task", {"executionArn": traced.arns["nested_ok"], "action": "success"})
    assert resp.status_code == 409 and "not waiting" in resp.json["message"]
    resp = act(acting, "stop", {})
    assert resp.status_code == 400 and resp.json["message"] == "executionArn is required"


def test_start_answer_the_token_then_stop(traced, acting):
    sfn, sqs = traced.sfn, traced.fleet.sqs
    queue = sqs.get_queue_url(QueueName="trace-operator")["QueueUrl"]
    started = act(acting, "start", {"stateMachineArn": traced.machine_arns["nested"], "name": "console-acts",
                                    "input": json.dumps(NESTED_INPUT)})
    assert started.status_code == 200, started.json
    arn = started.json["executionArn"]
    _until("the task token", lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages"))
    # (A heartbeat is checked on the dispatch's trip, which declares HeartbeatSeconds: tests/browser.)
    answered = act(acting, "task", {"executionArn": arn, "state": "AskOperator", "action": "failure",
                                    "error": "OperatorSaidNo", "cause": "not from the console"})
    assert answered.status_code == 200 and answered.json["state"] == "AskOperator"
    traced.cloud.wait(arn)
    desc = sfn.describe_execution(executionArn=arn)
    assert desc["status"] == "FAILED" and desc["error"] == "Refused"  # the Catch took OperatorSaidNo

    again = act(acting, "start", {"stateMachineArn": traced.machine_arns["nested"], "input": json.dumps(NESTED_INPUT)})
    arn = again.json["executionArn"]
    _until("the task token", lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages"))
    stopped = act(acting, "stop", {"executionArn": arn, "cause": "checked from the console"})
    assert stopped.status_code == 200
    traced.cloud.wait(arn)
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    assert act(acting, "stop", {"executionArn": arn}).status_code in (200, 409)  # stopping twice: no crash


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(["start", "stop", "task", "dlq/redrive"]),
       body=st.one_of(st.dictionaries(st.sampled_from(["stateMachineArn", "executionArn", "input", "output", "name",
                                                        "action", "state", "error", "cause", "ids"]),
                                      st.one_of(st.none(), st.integers(), st.text(max_size=40), st.lists(st.text(max_size=5)),
                                                st.sampled_from(["success", "failure", "heartbeat", "{}", "arn:aws:states:x"]))),
                      st.lists(st.integers()), st.text(max_size=20)))
def test_hostile_action_bodies_get_one_line_and_never_a_5xx(traced, acting, path, body):
    resp = acting.post(f"/console/api/{path}", data=json.dumps(body), content_type="application/json",
                       headers={"X-Console-Token": TOKEN})
    assert resp.status_code < 500 or resp.status_code == 501, (resp.status_code, resp.get_data())
    if resp.status_code >= 400:
        message = resp.json["message"]
        assert message and "\n" not in message and "Traceback" not in message
