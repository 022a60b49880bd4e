"""`fleet load`: a fixed arrival rate against a real `fleet up`, every execution followed to its
end and reported; loopback only unless told otherwise; missing routes reported, not crashed on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from fleet_domain.models.car import VIN_PATTERN
from tests.servers import ROOT, Stack, fleet_up
from workflows.cli.entry import main
from workflows.load import driver
from workflows.load.stats import percentiles


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    up = fleet_up()
    yield up
    assert up.stop() == 0


def fleet_load(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workflows", "load", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


# --- against a real fleet up -------------------------------------------------------------------


def test_load_drives_fleet_up_and_reports_every_execution(stack, tmp_path):
    report_path = tmp_path / "report.json"
    done = fleet_load("--api-url", stack.api_url, "--rate", "6", "--duration", "3", "--wait", "40", "--seed", "7",
                      "--mix", "register=5,dispatch=3,maintenance=2", "--report-json", str(report_path))

    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(report_path.read_text())
    req, ex = report["requests"], report["executions"]
    assert req["planned"] == 18 and req["sent"] + sum(req["skipped"].values()) == 18
    assert req["server_errors"] == req["transport_errors"] == 0
    assert set(req["by_status"]) <= {"202", "404", "409", "422"}, req["by_status"]
    assert ex["started"] == req["by_status"].get("202", 0) and ex["started"] >= 10
    assert ex["still_running"] == 0 and ex["failed_not_in_dlq"] == 0, report["outcomes"]
    assert ex["succeeded"] + ex["domain_errors"] + ex["failed_in_dlq"] + ex["stopped"] == ex["started"]
    named = {"CarRegistered", "CarFailedInspection", "NoCarAvailable", "TripCompleted", "BackInService",
             "CarRetired", "MaintenanceRefused"}
    assert {label for labels in report["outcomes"].values() for label in labels} <= named | {"FAILED"}, report["outcomes"]
    assert report["outcomes"]["register"].get("CarRegistered", 0) >= 1
    assert report["latency_ms"]["all"]["p50"] > 0 and report["latency_ms"]["all"]["p99"] >= report["latency_ms"]["all"]["p50"]
    assert report["end_to_end_ms"]["server"]["p50"] is not None and report["throughput"]["requests_per_s"] > 0
    if report["outcomes"].get("dispatch", {}).get("TripCompleted"):
        assert any(k.startswith("trip completed") for k in report["human_steps"])  # the follower drove the trip

    # The report people read: the same numbers, tables and a verdict; the progress bar on stderr.
    assert re.search(r"requests\s+\d+ sent of 18 planned", done.stdout)
    for title in ("request latency (ms)", "execution end to end (ms)", "outcomes"):
        assert title in done.stdout
    assert "verdict    ok" in done.stdout and "requests" in done.stderr and "executions" in done.stderr


def test_a_second_run_starts_new_executions_not_replays(stack, tmp_path):
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    for path in (first, second):
        done = fleet_load("--api-url", stack.api_url, "--rate", "4", "--duration", "1", "--wait", "30",
                          "--mix", "register=1", "--report-json", str(path))
        assert done.returncode == 0, done.stdout + done.stderr
    one, two = (json.loads(p.read_text()) for p in (first, second))
    assert one["plan"]["run_id"] != two["plan"]["run_id"]
    assert two["outcomes"]["register"] == {"CarRegistered": 4}  # new cars, not CarAlreadyRegistered


# --- a route the API does not have yet -------------------------------------------------------------


class FakeApi:
    """An API with register and executions, but no dispatch or maintenance routes yet."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        self.calls.append(f"{request.method} {request.path}")
        if request.path == "/health":
            return self.json(200, {"status": "ok"})(environ, start_response)
        if request.method == "POST" and request.path == "/cars":
            vin = json.loads(request.get_data())["vin"]
            arn = f"arn:aws:states:us-east-1:123456789012:execution:fleet-register-car:register-{vin}"
            return self.json(202, {"car_id": f"car-{vin}", "execution_arn": arn, "status": "RUNNING",
                                   "links": {"execution": f"/executions/register-{vin}"}})(environ, start_response)
        if request.path.startswith("/executions/"):
            return self.json(200, {"status": "SUCCEEDED", "output": {"outcome": "CarRegistered"},
                                   "start_date": "2026-01-01T00:00:00+00:00",
                                   "stop_date": "2026-01-01T00:00:00.050000+00:00"})(environ, start_response)
        if request.path == "/dlq":
            return self.json(200, {"messages": []})(environ, start_response)
        return self.json(404, {"message": f"no route {request.method} {request.path}", "request_id": "r"})(
            environ, start_response)

    @staticmethod
    def json(status: int, body: Any) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")


@pytest.fixture
def fake_api() -> Iterator[tuple[str, FakeApi]]:
    app = FakeApi()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", app
    server.shutdown()


def test_a_missing_route_is_reported_once_and_its_workflow_skipped(fake_api, capsys, tmp_path):
    url, app = fake_api
    code = main(["load", "--api-url", url, "--rate", "20", "--duration", "1", "--wait", "5",
                 "--mix", "register=1,dispatch=1,maintenance=1", "--report-json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "r.json").read_text())

    assert code == 0, out
    assert set(report["missing_routes"]) == {"dispatch", "maintenance"}
    assert report["missing_routes"]["dispatch"].startswith("POST /rides answered 404: no route POST /rides")
    assert "missing    dispatch: POST /rides answered 404" in out and "no such route yet" in out
    assert report["executions"]["succeeded"] == report["executions"]["started"] > 0
    skipped = report["requests"]["skipped"]
    sent_rides = sum(1 for c in app.calls if c == "POST /rides")
    assert skipped.get("dispatch: route missing", 0) >= 1  # later dispatches were not sent at all
    plan = driver.LoadPlan(api_url=url, rate=20, duration_s=1, mix={w: 1.0 for w in driver.WORKFLOWS})
    assert sent_rides + skipped["dispatch: route missing"] == driver.LoadRun(plan).schedule().count("dispatch")
    assert sent_rides >= 1


# --- arguments, loopback --------------------------------------------------------------------------


@pytest.mark.parametrize("args,message", [
    (["--rate", "0", "--duration", "1"], "--rate must be above 0"),
    (["--rate", "nan", "--duration", "1"], "--rate must be above 0"),
    (["--rate", "5", "--duration", "-1"], "--duration must be above 0"),
    (["--rate", "1000", "--duration", "3600"], "at most 100000"),
    (["--rate", "1", "--duration", "1", "--mix", "register=1,flying=2"], "--mix takes"),
    (["--rate", "1", "--duration", "1", "--mix", "register=-1"], "must be 0 or more"),
    (["--rate", "1", "--duration", "1", "--mix", "register=0"], "at least one workflow"),
    (["--rate", "1", "--duration", "1", "--mix", "register=x"], "is not a number"),
    (["--rate", "1", "--duration", "1", "--api-url", "ftp://127.0.0.1/"], "must be an http(s) URL"),
    (["--rate", "1", "--duration", "1", "--api-url", "http://10.1.2.3:8080"], "not on this machine"),
    (["--rate", "1", "--duration", "1", "--api-url", "http://192.0.2.1"], "pass --allow-remote"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_bad_arguments_and_remote_urls_are_one_line_exit_2(capsys, args, message):
    assert main(["load", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("fleet: ") and message in err, err


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080",
                                 "http://127.8.9.10"])
def test_loopback_urls_are_accepted(url):
    from workflows.cli.load import check_api_url

    check_api_url(url, allow_remote=False)


def test_no_api_answering_is_one_line_exit_4(capsys):
    assert main(["load", "--rate", "1", "--duration", "1", "--api-url", "http://127.0.0.1:9"]) == 4
    assert "no fleet API answers at http://127.0.0.1:9" in capsys.readouterr().err


def test_allow_remote_lets_a_remote_url_through_to_the_health_check(capsys):
    assert main(["load", "--rate", "1", "--duration", "1", "--api-url", "http://192.0.2.1:9", "--allow-remote"]) == 4
    assert "no fleet API answers at http://192.0.2.1:9" in capsys.readouterr().err


# --- the pieces ----------------------------------------------------------------------------------


def test_the_arrivals_follow_the_mix_evenly():
    plan = driver.LoadPlan(api_url="http://127.0.0.1:1", rate=10, duration_s=10,
                         mix={"register": 6, "dispatch": 3, "maintenance": 1})
    order = driver.LoadRun(plan).schedule()
    assert len(order) == 100
    assert {w: order.count(w) for w in driver.WORKFLOWS} == {"register": 60, "dispatch": 30, "maintenance": 10}
    assert {w: order[:10].count(w) for w in driver.WORKFLOWS} == {"register": 6, "dispatch": 3, "maintenance": 1}


def test_generated_vins_are_valid_and_unique_to_the_run():
    a, b = driver.Generator(1), driver.Generator(2)
    vins = [a.vin(n) for n in range(1, 2000)]
    assert all(re.fullmatch(VIN_PATTERN, v) for v in vins) and len(set(vins)) == len(vins)
    assert a.vin(1) != b.vin(1)


def test_percentiles_are_the_standard_librarys_inclusive_quantiles():
    assert percentiles([]) == dict.fromkeys(("p50", "p90", "p95", "p99", "max"))
    values = [float(v) for v in range(1, 101)]
    # One definition for the whole project: statistics.quantiles, inclusive (linear between ranks).
    assert percentiles(values) == pytest.approx({"p50": 50.5, "p90": 90.1, "p95": 95.05, "p99": 99.01, "max": 100.0})
    assert percentiles([3.0]) == {"p50": 3.0, "p90": 3.0, "p95": 3.0, "p99": 3.0, "max": 3.0}
