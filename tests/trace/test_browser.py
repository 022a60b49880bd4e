"""A real browser (Chromium, driven by Playwright: tests/browser/fixtures.py) opens the console and
execution pages served on a free loopback port, and a standalone file.

Checks that the graph was laid out and drawn (every state placed, no two overlapping, an edge
path per transition, the path taken drawn), that a click shows a state's details, that a running
execution's page reloads itself when the execution ends, that the page logs no errors, and that
the standalone file fetches nothing. Screenshots are kept in test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.browser.fixtures import shot, until
from tests.servers import free_port
from workflows.console.app import console_app
from workflows.trace import html

from .conftest import NESTED_INPUT, _until
from .test_console import page_path

LAID_OUT = 'document.getElementById("graph").getAttribute("data-layout") === "done"'

# What the page drew: the states placed, their boxes, the edges.
GEOMETRY = """(() => {
  const graph = document.getElementById("graph").getBoundingClientRect();
  const boxes = [...document.querySelectorAll("#graph [data-node]")].map(el => {
    const r = el.getBoundingClientRect();
    return {id: el.dataset.node, group: el.classList.contains("group"), x: r.x, y: r.y, w: r.width, h: r.height,
            inside: r.x >= graph.x - 1 && r.y >= graph.y - 1 && r.right <= graph.right + 1 && r.bottom <= graph.bottom + 1,
            parent: (el.parentElement.closest("[data-node]") || {dataset: {}}).dataset.node || null};
  });
  return {boxes, edges: document.querySelectorAll("#edges path.edge").length,
          taken: document.querySelectorAll("#edges path.edge.taken").length,
          labels: document.querySelectorAll("#edges text.edge-label").length,
          data: JSON.parse(document.getElementById("trace-data").textContent)};
})()"""


@pytest.fixture(scope="module")
def console_url(traced) -> Iterator[str]:
    server = make_server("127.0.0.1", free_port(), console_app(traced.sfn, poll_interval_ms=200), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="trace-console", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def check_drawing(page: Any) -> dict:
    """The layout placed every state inside the graph, none overlapping, and drew every edge."""
    g = page.evaluate(GEOMETRY)
    data = g["data"]
    assert {b["id"] for b in g["boxes"]} == {n["id"] for n in data["graph"]["nodes"]}
    for b in g["boxes"]:
        assert b["w"] > 20 and b["h"] > 15 and b["inside"], b
    leaves = [b for b in g["boxes"] if not b["group"]]
    for i, a in enumerate(leaves):
        for b in leaves[i + 1:]:
            apart = a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"] or a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"]
            assert apart, f"{a['id']} overlaps {b['id']}"
    assert g["edges"] == len(data["graph"]["edges"])
    assert g["taken"] == sum(e["taken"] for e in data["graph"]["edges"]) > 0
    assert g["labels"] == sum(1 for e in data["graph"]["edges"] if e["label"])
    return g


def test_console_lists_executions_and_opens_a_graph(page, console_url, traced):
    page.goto(f"{console_url}/console")
    links = page.evaluate('[...document.querySelectorAll("a[href*=\\"/console/executions/\\"]")].map(a => a.getAttribute("href"))')
    assert set(links) >= {page_path(arn) for arn in traced.arns.values()}
    shot(page, "console-list")

    target = page_path(traced.arns["maintenance_signed_off"])
    page.locator(f'a[href="{target}"]').first.click()
    page.wait_for_url(f"**{target}")
    until(page, LAID_OUT)
    check_drawing(page)

    # Nested groups: the Map holds its state, the Parallel its branches side by side.
    boxes = {b["id"]: b for b in page.evaluate(GEOMETRY)["boxes"]}
    assert boxes["RunChecks/ItemProcessor/RunCheck"]["parent"] == "RunChecks"
    left, right = boxes["PrepareRepair/Branches[0]"], boxes["PrepareRepair/Branches[1]"]
    assert left["x"] + left["w"] <= right["x"] and abs(left["y"] - right["y"]) < 2

    page.locator('#graph [data-node="RunChecks/ItemProcessor/RunCheck"]').dispatch_event("click")
    details = page.inner_text("#details")
    assert "RunCheck" in details and "item 0" in details and "TransientCheckError: rig offline" in details
    assert "input" in details and "output" in details
    assert "selected" in page.get_attribute('#graph [data-node="RunChecks/ItemProcessor/RunCheck"]', "class")
    assert page.evaluate("location.hash") == "#state=RunChecks%2FItemProcessor%2FRunCheck"

    page.evaluate("window.scrollTo(0, 0)")
    assert shot(page, "maintenance").stat().st_size > 20_000
    shot(page, "maintenance-full-page", full_page=True)
    assert page.errors == []


def test_the_standalone_file_draws_without_fetching_anything(page, traced, tmp_path):
    path = tmp_path / "register-dlq.html"
    path.write_text(html.render_page(traced.trace("register_dlq")))
    page.goto(path.as_uri())
    until(page, LAID_OUT)
    check_drawing(page)
    assert page.requested == [path.as_uri()]
    inspect = page.evaluate('(() => { const el = document.querySelector(\'[data-node="InspectCar"]\');'
                            ' return [el.className, el.querySelector(".badge.retries").textContent]; })()')
    assert "caught" in inspect[0] and "retried" in inspect[0] and inspect[1].endswith("3")
    page.locator('tr[data-node="InspectCar"]').first.dispatch_event("click")  # an event row selects its state
    assert "caught error" in page.inner_text("#details")
    shot(page, "register-dlq-standalone")
    assert page.errors == []


def test_a_running_execution_page_reloads_itself_when_it_ends(page, console_url, traced):
    sfn, sqs = traced.sfn, traced.fleet.sqs
    queue = sqs.get_queue_url(QueueName="trace-operator")["QueueUrl"]
    arn = sfn.start_execution(stateMachineArn=traced.machine_arns["nested"], name="browser-running",
                              input=json.dumps(NESTED_INPUT))["executionArn"]
    message = _until("the task token", lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages"))[0]
    page.goto(f"{console_url}{page_path(arn)}")
    until(page, LAID_OUT)
    assert page.evaluate("document.body.dataset.status") == "RUNNING"
    assert "running" in page.get_attribute('#graph [data-node="AskOperator"]', "class")
    assert "waiting for SendTaskSuccess" in page.inner_text("#details")
    shot(page, "nested-running")

    sfn.send_task_success(taskToken=json.loads(message["Body"])["token"], output=json.dumps({"ok": True}))
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    traced.cloud.wait(arn)
    until(page, 'document.body.dataset.status === "SUCCEEDED"')
    until(page, LAID_OUT)
    assert "succeeded" in page.get_attribute('#graph [data-node="AskOperator"]', "class")
    assert page.evaluate("location.hash") == "#state=AskOperator"  # the selection survived the reload
    shot(page, "nested-ended")
    assert page.errors == []
