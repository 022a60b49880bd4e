"""`fleet run` never leaves the user guessing: the execution's ARN first, the state it is in while
it runs (on a terminal), a wait for a task token said with the command that resumes it (exit 5),
and Ctrl-C leaves the execution running with the way to follow it."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest

from tests.e2e.test_cli import fleet
from tests.servers import ROOT, fleet_up

CAR = {"vin": "5YJ3E1EA7KF3170W1", "model": "Robotaxi S", "year": 2024, "seats": 4, "battery_pct": 80,
       "location": {"lat": 52.52, "lon": 13.405}}
RIDE = {"ride_id": "r-follow", "pickup": {"lat": 52.515, "lon": 13.40}, "dropoff": {"lat": 52.50, "lon": 13.35},
        "passengers": 2}


@pytest.fixture(scope="module")
def slow_stack(tmp_path_factory):
    """`fleet up` where planning one car's route takes three attempts of 8 s each (each under the 10 s
    timeout; the first two end in the transient error PlanRoute retries): a dispatch that stays in
    PlanRoute for about 25 s, long enough to watch and interrupt on a busy machine."""
    faults = tmp_path_factory.mktemp("faults") / "slow.json"
    slow = {"car_id": "car-SLWRTE12345678901"}
    faults.write_text(json.dumps({"functions": {"PlanRoute": [
        {"latency_s": 8, "error": "TransientRoutingError", "first": 2, "match": slow},
        {"latency_s": 8, "match": slow}]}}))
    up = fleet_up("--faults", str(faults))
    yield up.aws_endpoint
    assert up.stop() == 0


def test_a_run_that_waits_for_a_task_token_says_so_with_the_command_that_resumes_it(slow_stack):
    assert fleet("run", "register", "--input", json.dumps(CAR), "--endpoint-url", slow_stack).returncode == 0
    waiting = fleet("run", "dispatch", "--input", json.dumps(RIDE), "--endpoint-url", slow_stack)
    assert waiting.returncode == 5, waiting.stdout + waiting.stderr
    lines = waiting.stdout.splitlines()
    assert lines[0].startswith("execution  arn:aws:states:us-east-1:123456789012:execution:fleet-dispatch-car:")
    assert "status     RUNNING" in lines
    assert "waiting    StartTrip waits for its task token" in lines
    assert "resume     fleet trip complete r-follow [--odometer-km N] [--battery-pct N]" in lines

    as_json = fleet("run", "dispatch", "--input", json.dumps(RIDE), "--endpoint-url", slow_stack, "--output", "json")
    data = json.loads(as_json.stdout)
    assert as_json.returncode == 5 and data["status"] == "RUNNING"
    assert data["waiting_for_task_token"][0]["state"] == "StartTrip"
    assert as_json.stderr.startswith("execution  arn:")  # the ARN at once, beside the one JSON document

    done = fleet("trip", "complete", "r-fol", "--wait", "--endpoint-url", slow_stack)  # the start of the ride id
    assert done.returncode == 0, done.stdout + done.stderr
    assert "TripCompleted" in done.stdout


def _ctrl_c_as_on_a_terminal() -> None:
    # A command started in the background by a non-interactive shell (as CI starts the suite)
    # inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler: the command
    # would rightly ignore Ctrl-C. The user this test plays runs `fleet run` in the foreground.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_progress_on_a_terminal_and_ctrl_c_leaves_the_execution_running(slow_stack):
    # The slow car is the only one with the seats for this ride: the dispatch cannot pick the first
    # test's car (at the same place), whose route is planned at once.
    car = {**CAR, "vin": "SLWRTE12345678901", "seats": 9}
    assert fleet("run", "register", "--input", json.dumps(car), "--endpoint-url", slow_stack).returncode == 0
    ride = {**RIDE, "ride_id": "r-slow", "pickup": car["location"], "passengers": CAR["seats"] + 3}
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "workflows", "run", "dispatch", "--input", json.dumps(ride),
                             "--endpoint-url", slow_stack], cwd=ROOT, stdout=subprocess.PIPE, stderr=terminal,
                            text=True, env={**os.environ, "COLUMNS": "120"}, preexec_fn=_ctrl_c_as_on_a_terminal)
    os.close(terminal)
    try:
        first = proc.stdout.readline()
        assert first.startswith("execution  arn:aws:states:us-east-1:123456789012:execution:fleet-dispatch-car:")
        shown = b""
        deadline = time.monotonic() + 60
        while b"PlanRoute" not in shown and time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1)
            if ready:
                shown += os.read(controller, 4096)
        assert b"PlanRoute" in shown  # the state it is in, as it runs
        proc.send_signal(signal.SIGINT)
        # Keep reading the terminal while the command stops: a terminal nobody reads fills up, and the
        # progress line's next write would block the command before it can act on Ctrl-C.
        rest = b""
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([controller], [], [], 0.2)[0]:
                try:
                    rest += os.read(controller, 4096)
                except OSError:
                    break
        assert proc.wait(timeout=1) == 130
        time.sleep(0.2)
        while select.select([controller], [], [], 0.5)[0]:
            try:
                rest += os.read(controller, 4096)
            except OSError:
                break
        assert b"interrupted: the execution goes on; `fleet trace dispatch-r-slow" in shown + rest
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(controller)
    arn = first.split()[1]
    traced = fleet("trace", arn, "--endpoint-url", slow_stack, "--output", "json")
    assert json.loads(traced.stdout)["status"] == "RUNNING"  # Ctrl-C stopped the command, not the execution
    # Let the slow route end (its handler holds a thread that `fleet up` would wait for when it stops).
    assert fleet("run", "dispatch", "--input", json.dumps(ride), "--endpoint-url", slow_stack,
                 "--timeout", "60").returncode == 5
