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

LAID_OUT = 'document.getElementById("graph")?.getAttribute("data-layout") === "done"'

# What the page drew: the states placed, their boxes, the edges.
GEOMETRY = """(() => {
  const graph = document.getElementById("graph").getBoundingClientRect();
  const folded = [...document.querySelectorAll("#graph [data-node].folded")].map(el => el.dataset.node);
  const boxes = [...document.querySelectorAll("#graph [data-node]:not(.folded)")].map(el => {
    const r = el.getBoundingClientRect();
    return {id: el.dataset.node, group: el.classList.contains("group"), x: r.x, y: r.y, w: r.width, h: r.height,
            inside: r.x >= graph.x - 1 && r.y >= graph.y - 1 && r.right <= graph.right + 1 && r.bottom <= graph.bottom + 1,
            parent: (el.parentElement.closest("[data-node]") || {dataset: {}}).dataset.node || null};
  });
  return {boxes, folded, edges: document.querySelectorAll("#edges path.edge").length,
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
    folded = set(g["folded"])
    assert not folded & set(data["states"]), "a state this execution visited is folded"
    assert {b["id"] for b in g["boxes"]} == {n["id"] for n in data["graph"]["nodes"]} - folded
    shown = [e for e in data["graph"]["edges"] if e["source"] not in folded and e["target"] not in folded]
    for b in g["boxes"]:
        assert b["w"] > 20 and b["h"] > 15 and b["inside"], b
    leaves = [b for b in g["boxes"] if not b["group"]]
    for i, a in enumerate(leaves):
        for b in leaves[i + 1:]:
            apart = a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"] or a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"]
            assert apart, f"{a['id']} overlaps {b['id']}"
    assert g["edges"] == len(shown)
    assert g["taken"] == sum(e["taken"] for e in shown) > 0
    assert g["labels"] == sum(1 for e in shown if e["label"])
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


def view(page) -> dict:
    return page.evaluate("""(() => { const g = document.getElementById("graph"), v = document.getElementById("graph-viewport");
      const name = document.querySelector('#graph .node:not(.folded) .name').getBoundingClientRect();
      return {scale: Number(g.dataset.scale), transform: g.style.transform, nameHeight: name.height,
              viewport: v.getBoundingClientRect().toJSON(), hidden: document.querySelectorAll("#graph .folded").length,
              selected: (document.querySelector("#graph .selected") || {dataset: {}}).dataset.node || null}; })()""")


@pytest.mark.parametrize("scenario", ["register_dlq", "dispatch_trip", "maintenance_checks_fail"])
def test_the_graph_opens_legible_at_1400_px_on_the_failing_or_chosen_state(page, console_url, traced, scenario):
    page.goto(f"{console_url}{page_path(traced.arns[scenario])}")
    until(page, 'document.getElementById("graph")?.dataset.view === "ready"')
    v = view(page)
    assert v["scale"] >= 0.8, v  # not squeezed to the panel's width
    assert v["nameHeight"] >= 12, v  # a state's name as drawn, in CSS pixels
    data = page.evaluate('JSON.parse(document.getElementById("trace-data").textContent)')
    if data["focus"]:
        assert v["selected"] == data["focus"]
        box = page.locator(f'#graph [data-node="{data["focus"]}"]').bounding_box()
        port = v["viewport"]
        assert port["x"] <= box["x"] and box["x"] + box["width"] <= port["x"] + port["width"]  # in view
        assert port["y"] <= box["y"] and box["y"] + box["height"] <= port["y"] + port["height"]
    shot(page, f"graph-{scenario}")
    assert page.errors == []


def test_wheel_zoom_pan_fit_and_the_minimap(page, console_url, traced):
    page.goto(f"{console_url}{page_path(traced.arns['register_dlq'])}")
    until(page, 'document.getElementById("graph")?.dataset.view === "ready"')
    port = view(page)["viewport"]
    cx, cy = port["x"] + port["width"] / 2, port["y"] + port["height"] / 2
    before = view(page)["scale"]
    page.mouse.move(cx, cy)
    page.mouse.wheel(0, -300)  # zoom in about the pointer
    until(page, f'Number(document.getElementById("graph").dataset.scale) > {before}')
    page.mouse.wheel(0, 600)
    until(page, f'Number(document.getElementById("graph").dataset.scale) < {before}')

    def origin():
        return page.locator('#graph [data-node="InspectCar"]').bounding_box()

    start = origin()
    page.mouse.move(port["x"] + 20, port["y"] + 20)  # a spot of background, not a state
    page.mouse.down()
    page.mouse.move(port["x"] + 120, port["y"] + 80, steps=5)
    page.mouse.up()
    moved = origin()
    assert abs(moved["x"] - start["x"] - 100) < 2 and abs(moved["y"] - start["y"] - 60) < 2

    page.click("#zoom-fit")
    g = page.locator("#graph").bounding_box()
    assert g["width"] <= port["width"] + 1 and g["height"] <= port["height"] + 1  # the whole machine in view
    page.click("#zoom-actual")
    until(page, 'document.getElementById("graph").dataset.scale === "1.000"')

    mini = page.locator("#minimap").bounding_box()
    page.mouse.click(mini["x"] + mini["width"] * 0.9, mini["y"] + mini["height"] * 0.9)  # jump to the bottom right
    after = origin()
    assert after["x"] < moved["x"] or after["y"] < moved["y"]
    assert page.errors == []


def test_error_handling_is_folded_into_badges_until_expanded(page, console_url, traced):
    page.goto(f"{console_url}{page_path(traced.arns['register_happy'])}")
    until(page, 'document.getElementById("graph")?.dataset.view === "ready"')
    folded = page.evaluate('[...document.querySelectorAll("#graph [data-node].folded")].map(e => e.dataset.node)')
    data = page.evaluate('JSON.parse(document.getElementById("trace-data").textContent)')
    assert not set(folded) & set(data["states"])  # nothing this execution went through
    assert {"ValidateCarFailed", "PersistCarFailed", "SendToDLQ"} <= set(folded)
    badge = page.locator('#graph [data-node="ValidateCar"] .badge.catch')
    assert badge.count() == 1 and "ValidateCarFailed" in badge.get_attribute("title")
    shot(page, "graph-register-folded")
    page.click("#fold")
    until(page, '!document.querySelector("#graph .folded") && document.getElementById("graph").dataset.layout === "done"')
    check_drawing(page)
    assert page.locator("#graph .badge.catch").count() == 0
    shot(page, "graph-register-expanded")
    assert page.errors == []


def test_a_lambda_errors_stack_trace_is_rendered_frame_by_frame(page, console_url, traced):
    page.goto(f"{console_url}{page_path(traced.arns['register_dlq'])}#state=InspectCar")
    until(page, 'document.getElementById("graph")?.dataset.view === "ready"')
    head = page.inner_text("#details .lambda-error-head")
    assert head == "TransientInspectionError: telemetry link timed out"
    frames = page.locator("#details .lambda-error ol.stack li").all_inner_texts()
    assert frames and all('File "' in f and '\\"' not in f for f in frames)
    assert page.errors == []


def test_the_timeline_shows_every_visit_its_retries_and_token_waits(page, console_url, traced):
    page.goto(f"{console_url}{page_path(traced.arns['maintenance_signed_off'])}")
    until(page, 'document.getElementById("graph")?.dataset.view === "ready"')
    data = page.evaluate('JSON.parse(document.getElementById("trace-data").textContent)')
    visits = sum(len(s["visits"]) for s in data["states"].values())
    assert page.locator("#timeline .tl-row").count() == visits
    assert page.locator("#timeline .tl-token").count() >= 1  # the sign-off's task token
    assert page.locator("#timeline .tl-attempt").count() >= 1  # the check retried after "rig offline"
    bars = page.evaluate('[...document.querySelectorAll("#timeline .tl-bar")].map(b => parseFloat(b.style.left))')
    assert bars == sorted(bars)  # in the order they started
    page.locator('#timeline .tl-row[data-node="RequestSignOff"]').first.click()
    assert page.get_attribute("#graph .selected", "data-node") == "RequestSignOff"
    assert "came back after" in page.inner_text("#details")
    page.locator("#timeline").scroll_into_view_if_needed()
    shot(page, "timeline-maintenance")
    assert page.errors == []


def test_a_states_input_and_output_step_by_step(page, console_url, traced):
    page.goto(f"{console_url}{page_path(traced.arns['register_happy'])}#state=InspectCar")
    until(page, 'document.getElementById("graph")?.dataset.view === "ready"')
    steps = page.evaluate('[...document.querySelectorAll("#details .io-step")].map(li => li.dataset.step)')
    assert steps[:3] == ["state input", "InputPath", "Parameters"] and steps[-2:] == ["ResultPath", "OutputPath"]
    assert "task result" in steps
    recorded = page.evaluate('[...document.querySelectorAll("#details .io-step.recorded")].map(li => li.dataset.step)')
    assert {"state input", "Parameters", "task result", "OutputPath"} <= set(recorded)
    shot(page, "io-steps-inspect-car")
    assert page.errors == []
