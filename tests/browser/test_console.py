"""The console in real Chromium at 1400x900, against its own local cloud: the executions list
(filters, outcome, live updates, start with the input editor), an execution's actions (task
heartbeat and success on a trip that waits, stop), the fleet, the DLQ (stack traces rendered,
redrive) and the functions (invocations). Each view leaves a screenshot in
test-artifacts/screenshots/console-*.png."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.browser.fixtures import shot, until
from tests.conftest import Fleet
from tests.servers import free_port
from workflows.console.app import console_app
from workflows.local.cloud import LocalCloud
from workflows.local.faults import FaultRule, Faults
from workflows.trace.html import execution_path

CAR = {"model": "Robotaxi S", "year": 2024, "seats": 4, "battery_pct": 90}
NO_RELOAD = "window.__stillHere === true"


def car(n: int) -> dict[str, Any]:
    return {**CAR, "vin": f"5YJ3E1EA7KF31{n:04d}", "location": {"lat": 52.52 + n * 0.001, "lon": 13.405}}


def ride(ride_id: str) -> dict[str, Any]:
    return {"ride_id": ride_id, "pickup": {"lat": 52.521, "lon": 13.405}, "dropoff": {"lat": 52.50, "lon": 13.35},
            "passengers": 2}


class Console:
    def __init__(self, cloud: LocalCloud, fleet: Fleet, url: str):
        self.cloud, self.fleet, self.url = cloud, fleet, url
        self.arns: dict[str, str] = {}

    def page_of(self, arn: str) -> str:
        return self.url + execution_path("/console", arn)

    def waiting(self, arn: str) -> bool:
        from workflows.trace.model import load_trace
        from workflows.trace.tokens import token_waits

        return bool(token_waits(load_trace(self.fleet.sfn, arn)))


@pytest.fixture(scope="module")
def console() -> Iterator[Console]:
    faults = Faults({})
    with LocalCloud(virtual_time=True, fault_hook=faults) as cloud:
        fleet = Fleet(cloud)
        c = Console(cloud, fleet, "")
        for n in range(1, 5):
            c.arns[f"car{n}"] = arn = fleet.start("register", car(n))
            cloud.wait(arn)
        faults.rules = {"InspectCar": [FaultRule(error="TransientInspectionError", message="telemetry link timed out")]}
        c.arns["broken"] = arn = fleet.start("register", car(90))
        cloud.wait(arn)
        faults.rules = {}
        c.arns["invalid"] = arn = fleet.start("register", {**car(91), "vin": "NOT-A-VIN"})
        cloud.wait(arn)
        for name in ("trip", "stop-me"):
            c.arns[name] = fleet.start("dispatch", ride(name))
        c.arns["maintenance"] = fleet.start("maintenance", {"car_id": "car-5YJ3E1EA7KF310004", "reason": "brake noise"})
        import time

        deadline = time.monotonic() + 30
        while not all(c.waiting(c.arns[k]) for k in ("trip", "stop-me", "maintenance")):
            assert time.monotonic() < deadline, "the trips and the job never waited"
            time.sleep(0.05)
        server = make_server("127.0.0.1", free_port(), console_app(fleet.sfn, clients=cloud.client, poll_interval_ms=200,
                                                                    stream_s=10, refresh_s=1), threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        c.url = f"http://127.0.0.1:{server.server_port}"
        try:
            yield c
        finally:
            server.shutdown()
            server.server_close()


def rows(page) -> list[dict[str, str]]:
    return page.evaluate("""[...document.querySelectorAll("#executions tbody tr.execution")].map(tr => ({
        name: tr.cells[0].innerText, machine: tr.cells[1].innerText, status: tr.cells[2].innerText,
        outcome: tr.cells[3].innerText}))""")


def test_the_list_filters_and_shows_outcomes(page, console):
    page.goto(f"{console.url}/console")
    until(page, 'document.body.dataset.live === "on"')
    everything = rows(page)
    assert len(everything) == len(console.arns)
    outcomes = {r["name"]: r["outcome"] for r in everything}
    assert outcomes[console.arns["car1"].rsplit(":", 1)[-1]] == "CarRegistered"
    assert outcomes[console.arns["broken"].rsplit(":", 1)[-1]] == "TransientInspectionError"
    shot(page, "console-executions")

    page.select_option("#filter-status", "FAILED")
    failed = rows(page)
    assert failed and all(r["status"] == "FAILED" for r in failed)
    assert {r["name"] for r in failed} == {console.arns[k].rsplit(":", 1)[-1] for k in ("broken", "invalid")}
    page.select_option("#filter-status", "")
    page.select_option("#filter-machine", "fleet-dispatch-car")
    assert {r["machine"] for r in rows(page)} == {"fleet-dispatch-car"}
    page.fill("#filter-name", "stop-me")
    assert [r["name"].startswith("dispatch-stop-me") for r in rows(page)] == [True]
    page.select_option("#filter-machine", "")
    page.fill("#filter-name", "")
    page.select_option("#filter-since", "900")
    assert len(rows(page)) == len(everything)  # all started within the quarter hour
    shot(page, "console-executions-filtered")
    assert page.evaluate("location.hash") == "#since=900"  # the filters are in the address
    page.goto(f"{console.url}/console#status=FAILED&machine=fleet-register-car")
    until(page, 'document.body.dataset.live === "on"')
    assert {r["name"] for r in rows(page)} == {r["name"] for r in failed}
    assert page.errors == []


def test_start_from_the_editor_and_the_list_updates_without_a_reload(page, console):
    page.goto(f"{console.url}/console")
    until(page, 'document.body.dataset.live === "on"')
    page.evaluate("window.__stillHere = true")
    page.click("#start-open")
    page.select_option("#start-machine", label="fleet-register-car")
    page.fill("#start-name", "from-the-console")
    page.fill("#start-input", '{"vin": ')
    assert "bad" in page.get_attribute(".json-note", "class")
    page.click("#start-go")
    assert "not valid JSON" in page.inner_text("#console-message")
    page.fill("#start-input", json.dumps(car(7), indent=2))
    assert page.inner_text(".json-note") == "valid JSON"
    page.click("#start-go")
    until(page, '/started arn:aws:states:/.test(document.getElementById("console-message").innerText)')
    until(page, '[...document.querySelectorAll("#executions tr.execution td:first-child")]'
                '.some(td => td.innerText === "from-the-console")')
    assert page.evaluate(NO_RELOAD)
    until(page, '[...document.querySelectorAll("#executions tr.execution")].some(tr => tr.cells[0].innerText === '
                '"from-the-console" && tr.cells[3].innerText === "CarRegistered")')
    assert page.evaluate(NO_RELOAD)  # the outcome arrived over the stream too
    shot(page, "console-started")
    assert page.errors == []


def test_a_waiting_trip_takes_a_heartbeat_then_its_success(page, console):
    arn = console.arns["trip"]
    page.goto(console.page_of(arn))
    until(page, 'document.getElementById("graph")?.getAttribute("data-layout") === "done"')
    buttons = page.evaluate('[...document.querySelectorAll("#console-actions button[data-action]")].map(b => b.dataset.action)')
    assert buttons == ["success", "failure", "heartbeat"]
    page.click('#console-actions button[data-action="heartbeat"]')
    until(page, '/heartbeat sent/.test(document.getElementById("console-message").innerText)')
    shot(page, "console-execution-waiting")
    page.click('#console-actions button[data-action="success"]')
    page.fill("#task-output", json.dumps({"odometer_km": 12, "battery_pct": 80.0}))
    page.click("#task-success-go")
    console.cloud.wait(arn)
    until(page, 'document.body.dataset.status !== "RUNNING"')
    assert not console.waiting(arn)
    assert page.errors == []


def test_stop_from_the_execution_page(page, console):
    arn = console.arns["stop-me"]
    page.goto(console.page_of(arn))
    until(page, 'document.getElementById("graph")?.getAttribute("data-layout") === "done"')
    page.click("#action-stop")
    page.fill("#stop-cause", "the passenger cancelled")
    page.click("#stop-go")
    console.cloud.wait(arn)
    until(page, 'document.body.dataset.status === "ABORTED"')
    events = console.fleet.sfn.get_execution_history(executionArn=arn)["events"]
    aborted = next(e for e in events if e["type"] == "ExecutionAborted")
    assert aborted["executionAbortedEventDetails"]["cause"] == "the passenger cancelled"
    assert page.locator("#action-stop").count() == 0  # nothing to stop any more
    shot(page, "console-execution-stopped")
    assert page.errors == []


def test_the_fleet_view_shows_cars_by_status_with_their_ride_or_job(page, console):
    page.goto(f"{console.url}/console/fleet")
    until(page, 'document.body.dataset.loaded === "fleet"')
    board = page.evaluate("""Object.fromEntries([...document.querySelectorAll("#fleet .column")].map(c =>
        [c.dataset.status, [...c.querySelectorAll(".car")].map(x => x.innerText)]))""")
    cars = console.fleet.items("Cars")
    assert sum(len(v) for v in board.values()) == len(cars)
    for item in cars:
        assert any(item["car_id"] in text for text in board[item["status"]]), item["car_id"]
    in_maintenance = board["IN_MAINTENANCE"]
    assert len(in_maintenance) == 1 and "job maintenance-" in in_maintenance[0] and "brake noise" in in_maintenance[0]
    shot(page, "console-fleet")
    assert page.errors == []


def test_the_dlq_view_renders_the_stack_trace_and_redrives(page, console):
    page.goto(f"{console.url}/console/dlq")
    until(page, 'document.body.dataset.loaded === "dlq"')
    letters = page.locator("#dlq article.letter")
    assert letters.count() == len(console.fleet.dlq()) == 1
    head = page.inner_text("#dlq .lambda-error-head")
    assert head.startswith("TransientInspectionError: telemetry link timed out")
    frames = page.locator("#dlq ol.stack li").all_inner_texts()  # frames, one per item, not an escaped string
    assert frames and all('File "' in f and "\\n" not in f and '\\"' not in f for f in frames), frames
    shot(page, "console-dlq")
    page.check("#dlq article.letter input[type=checkbox]")
    page.click("#redrive")
    until(page, '/restarted/.test(document.getElementById("console-message").innerText)')
    assert letters.count() == 0 and console.fleet.dlq() == []
    assert page.errors == []


def test_the_functions_view_shows_each_functions_invocations(page, console):
    page.goto(f"{console.url}/console/functions")
    until(page, 'document.body.dataset.loaded === "functions"')
    validate = page.locator('#functions [data-function="fleet-validate-car"]')
    rows_ = validate.locator("table.invocations tbody tr")
    assert rows_.count() >= 5
    assert "CarValidationError" in validate.inner_text()  # the invalid VIN's call, with its error
    logs = validate.locator("pre.logs").inner_text()  # the function's CloudWatch Logs, as the runtime wrote them
    assert "START RequestId:" in logs and "REPORT RequestId:" in logs
    inspect = page.locator('#functions [data-function="fleet-inspect-car"]').inner_text()
    assert "TransientInspectionError" in inspect and "errors" in inspect
    shot(page, "console-functions")
    assert page.errors == []


def test_the_functions_view_shows_what_lambda_reported(page, console):
    """Each function's Lambda metrics (Invocations, Errors, Throttles, peak ConcurrentExecutions:
    CloudWatch, as the runtime published them) and its Duration p50/p99 and cold starts (its REPORT
    lines), as the page shows them and as the services hold them."""
    from workflows.cost.reports import percentile, read_reports

    console.cloud.telemetry.flush()
    page.goto(f"{console.url}/console/functions")
    until(page, 'document.body.dataset.loaded === "functions"')

    def shown(function: str) -> dict[str, str]:
        return page.evaluate(f"""Object.fromEntries([...document.querySelectorAll(
            '#functions [data-function="{function}"] table.function-metrics td')].map(td => [td.dataset.metric, td.textContent]))""")

    validate = shown("fleet-validate-car")
    reports = read_reports(console.cloud.client("logs"), "fleet-validate-car")
    assert len(reports) >= 6  # four cars, the broken one, the invalid VIN
    assert int(validate["invocations"]) == len(reports)
    assert int(validate["errors"]) >= 1  # the invalid VIN's CarValidationError
    assert validate["throttles"] == "0" and int(validate["peak concurrency"]) >= 1
    assert int(validate["cold starts"]) == sum(1 for r in reports if r.cold) >= 1
    p50, p99 = (float(validate[k].split()[0]) for k in ("duration p50", "duration p99"))
    assert 0 < p50 <= p99
    assert p50 == pytest.approx(percentile([r.duration_ms for r in reports], 50), abs=0.01 if p50 < 10 else 0.5)
    assert validate["billed"] == f"{sum(r.billed_ms for r in reports)} ms"
    inspect = shown("fleet-inspect-car")
    assert int(inspect["errors"]) >= 1  # the transient failures that ended in the DLQ
    idle = shown("fleet-retire-car")  # no car failed its road test
    assert idle["invocations"] == "0" and idle["duration p50"] == "–" and idle["cold starts"] == "0"
    page.locator('#functions [data-function="fleet-validate-car"] table.function-metrics').scroll_into_view_if_needed()
    shot(page, "console-function-metrics")
    assert page.errors == []
