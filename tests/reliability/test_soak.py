"""Soak: hundreds of registrations, a hundred rides over twenty cars and some maintenance jobs,
concurrently over the local REST API, with a 20% fault rate on every function (the API's own
included). Then: every execution reached a terminal state; every operational failure is in the
DLQ exactly once with its input; with faults switched off, redrive completes them; the
invariants hold. Nothing may be lost.

The stack runs in this process (the API Gateway front on a loopback port over the local cloud),
on wall-clock time, so that the test can switch the faults off for the redrive.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import Fleet
from tests.workflows import invariants
from workflows.definitions import catalog
from workflows.local.api_gateway import ApiGateway
from workflows.local.cloud import LocalCloud
from workflows.local.faults import FaultRule, Faults
from workflows.local.server import Servers, bind, url

REGISTRATIONS = 200
FLEET_CARS = 20  # the cars near the riders; the others are registered far away
RIDES = 100
MAINTENANCE_JOBS = 5
FAULT_RATE = 0.20
DEADLINE_S = 420
PHASE_S = 300  # per phase, generous: the machine may be busy; a quiet run takes about a minute in all


def faults(seed: int) -> Faults:
    # Half the faults are throttles (Step Functions retries them), half an error no state
    # retries (an operational failure: the DLQ).
    half = FAULT_RATE / 2
    rules = {f.logical_id: [FaultRule(throttle=True, rate=half), FaultRule(error="InjectedFault", rate=half / (1 - half))]
             for f in catalog.FUNCTIONS}
    return Faults(rules, seed=seed)


class Api:
    """A client that retries what a real client retries (429, 5xx) with the same request."""

    def __init__(self, base: str):
        self.base = base
        self.retries = Counter()
        self.log: list = []

    def call(self, method: str, path: str, body: Any = None, key: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", **({"Idempotency-Key": key} if key else {})}
        for attempt in range(30):
            req = urllib.request.Request(self.base + path, method=method, headers=headers,
                                         data=json.dumps(body).encode() if body is not None else None)
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    return resp.status, json.loads(resp.read() or b"null")
            except urllib.error.HTTPError as err:
                status, payload = err.code, json.loads(err.read() or b"null")
            self.log.append((key, attempt, status))
            if status not in (429, 502, 503, 504):
                return status, payload
            self.retries[status] += 1
            time.sleep(min(0.05 * 2 ** attempt, 1.0))
        return status, payload


@pytest.fixture(scope="module")
def soak():
    chaos = faults(seed=8)
    cloud = LocalCloud(virtual_time=False, fault_hook=chaos)
    cloud.runtime.async_retry_delay_s = 0.2  # Lambda's 1 and 2 minutes, scaled down for the soak
    gateway = ApiGateway(cloud.runtime)
    server = bind("127.0.0.1", 0, gateway)
    servers = Servers()
    with cloud:
        servers.serve(server, "soak-api")
        yield cloud, chaos, Api(url(server))
        servers.shutdown()


def near(rng: random.Random) -> dict:
    return {"lat": round(52.50 + rng.uniform(-0.02, 0.02), 5), "lon": round(13.40 + rng.uniform(-0.02, 0.02), 5)}


def vin(n: int) -> str:
    return f"SXAK{n:013d}"


class Background:
    """Completes trips and signs off jobs as soon as they wait, like cars and technicians."""

    def __init__(self, api: Api, rides: list[str], cars: list[str]):
        self.api, self.rides, self.cars = api, set(rides), cars
        self.stop = threading.Event()
        self.jobs: set[str] = set()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            for ride_id in list(self.rides):
                status, ride = self.api.call("GET", f"/rides/{ride_id}")
                if status == 200 and ride["status"] == "ON_TRIP" and ride.get("trip_report") is None:
                    self.api.call("POST", f"/rides/{ride_id}/complete", {})
                elif status == 200 and ride["status"] in ("COMPLETED", "REJECTED"):
                    self.rides.discard(ride_id)  # a FAILED ride stays watched: a redrive dispatches it again
            for job_id in list(self.jobs):
                status, job = self.api.call("GET", f"/maintenance/{job_id}")
                if status == 200 and job["status"] == "AWAITING_SIGN_OFF" and job.get("sign_off") is None:
                    self.api.call("POST", f"/maintenance/{job_id}/sign-off", {"technician": "Soak", "passed": True})
                elif status == 200 and job["status"] in ("COMPLETED", "RETIRED", "REFUSED"):
                    self.jobs.discard(job_id)
            time.sleep(0.05)


def all_executions(cloud: LocalCloud) -> list[dict]:
    sfn = cloud.client("stepfunctions")
    found = []
    for sm in catalog.STATE_MACHINES:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=cloud.state_machine_arn(sm.workflow)):
            found += page["executions"]
    return found


def settle(cloud: LocalCloud, _deadline: float, phase_s: float = PHASE_S) -> list[dict]:
    """Wait until no execution runs, for at most phase_s seconds."""
    deadline = time.monotonic() + phase_s
    while True:
        executions = all_executions(cloud)
        if not any(e["status"] == "RUNNING" for e in executions) or time.monotonic() > deadline:
            return executions
        time.sleep(0.25)


def recovered(execution_arn: str, final: dict[str, str]) -> bool:
    """Whether a failed execution's redrive chain (each redrive of a redrive) ended SUCCEEDED."""
    from fleet_domain.control.dlq import redrive_name
    from fleet_domain.data.failures import Failure

    current = execution_arn
    for _ in range(10):
        if final.get(current) == "SUCCEEDED":
            return True
        workflow = current.rsplit(":", 1)[-1].split("-", 1)[0]
        failure = Failure(failure_id="", execution_arn=current, workflow=workflow)
        current = current.rsplit(":", 1)[0] + ":" + redrive_name(failure)
        if current not in final:
            return False
    return False


def test_soak_under_faults_then_redrive_loses_nothing(soak):
    cloud, chaos, api = soak
    fleet = Fleet(cloud)
    rng = random.Random(8)
    deadline = time.monotonic() + DEADLINE_S
    started = Counter()

    def register(n: int) -> None:
        location = near(rng) if n < FLEET_CARS else {"lat": -33.9, "lon": 18.4}
        status, answer = api.call("POST", "/cars", {"vin": vin(n), "model": "Soak", "year": 2024, "seats": 4,
                                               "location": location, "battery_pct": 90}, key=f"car-{n}")
        assert status == 202, (n, status, locals().get("answer"), [x for x in api.log if x[0] == f"car-{n}"])
        started["register"] += 1

    def request_ride(n: int) -> None:
        status, _ = api.call("POST", "/rides", {"ride_id": f"soak-{n}", "pickup": near(rng), "dropoff": near(rng),
                                                "passengers": 2}, key=f"ride-{n}")
        assert status == 202, (n, status, locals().get("answer"), [x for x in api.log if x[0] == f"car-{n}"])
        started["dispatch"] += 1

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(register, range(REGISTRATIONS)))
    settle(cloud, deadline)

    background = Background(api, [f"soak-{n}" for n in range(RIDES)], [])
    background.thread.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(request_ride, range(RIDES)))
            for n in range(MAINTENANCE_JOBS):
                status, job = api.call("POST", f"/cars/car-{vin(FLEET_CARS + n)}/maintenance", {"reason": "soak"},
                                       key=f"job-{n}")
                if status == 202:
                    background.jobs.add(job["job_id"])
                    started["maintenance"] += 1
        executions = settle(cloud, deadline)

        # 1. Every execution reached a terminal state.
        assert [e["executionArn"] for e in executions if e["status"] == "RUNNING"] == []
        by_status = Counter(e["status"] for e in executions)
        failed = {e["executionArn"] for e in executions if e["status"] != "SUCCEEDED"}

        # 2. Every operational failure is in the DLQ exactly once, with its input.
        messages, token = [], None
        while True:  # every page of the listing
            status, dlq = api.call("GET", "/dlq?limit=100" + (f"&next_token={token}" if token else ""))
            assert status == 200
            messages += dlq["messages"]
            token = dlq.get("next_token")
            if not token:
                break
        in_dlq = Counter(m["execution_arn"] for m in messages)
        assert set(in_dlq) == failed, (set(in_dlq) ^ failed)
        assert all(n == 1 for n in in_dlq.values())
        sfn = cloud.client("stepfunctions")
        for letter in fleet.dlq():
            original = json.loads(sfn.describe_execution(executionArn=letter["execution_arn"])["input"])
            assert letter["input"] == original
        dlqd = len(failed)

        # 3. Faults off: redrive completes them.
        chaos.enabled = False
        redriven: set[str] = set()
        for _round in range(3):
            for _call in range(20):  # a call that runs short of time says how many remain
                status, report = api.call("POST", "/dlq/redrive", {"all": True})
                assert status == 200 and all(r["error"] is None for r in report["results"])
                redriven |= {r["execution_arn"] for r in report["results"]}
                if report["remaining"] == 0:
                    break
            # A redriven maintenance is a new job (named after its execution): sign it off too.
            background.jobs |= {arn.rsplit(":", 1)[-1] for arn in redriven if ":fleet-maintain-car:" in arn}
            settle(cloud, deadline)
            if api.call("GET", "/dlq")[1]["messages"] == []:
                break
        assert api.call("GET", "/dlq")[1]["messages"] == []
        # The queue follows: what the redrives' best-effort deletes left, the sweep deletes.
        status, swept = api.call("POST", "/dlq/sweep", {})
        assert status == 200 and swept["recorded"] == 0, swept
        assert fleet.dlq() == []
        final = {e["executionArn"]: e["status"] for e in settle(cloud, deadline)}
        unfinished = {arn.rsplit(":", 1)[-1]: (final.get(arn), sfn.describe_execution(executionArn=arn).get("error"))
                      for arn in redriven if final.get(arn) != "SUCCEEDED"}
        assert unfinished == {}
    finally:
        background.stop.set()
        background.thread.join(timeout=10)
    cloud.replay_failed_events()

    # 4. The invariants hold over the whole tables.
    invariants.check(fleet, drain_s=30)

    outcomes = Counter()
    for e in all_executions(cloud):
        if e["status"] == "SUCCEEDED":
            output = json.loads(sfn.describe_execution(executionArn=e["executionArn"]).get("output") or "{}")
            outcomes[output.get("outcome", "SUCCEEDED")] += 1
    lost = [arn for arn in failed if not recovered(arn, final)]
    print(f"\nsoak: started {dict(started)} executions {sum(by_status.values())} {dict(by_status)}; "
          f"succeeded {sum(outcomes.values())} by outcome {dict(outcomes)}; DLQ'd {dlqd}; redriven {len(redriven)}; "
          f"lost {len(lost)}; client retries {dict(api.retries)}")
    assert lost == []
    assert dlqd > 0, "a 20% fault rate sent nothing to the DLQ: the faults were not injected"
