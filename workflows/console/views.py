"""What the console's views show, as JSON-ready data read from the local cloud's services: the
executions with their outcome, the fleet (cars by status with the ride or job each is on), the
DLQ, and each function's invocations (from the executions' histories) and logs (CloudWatch Logs,
where the local cloud writes them). Each reader takes the clients it needs; nothing here writes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from workflows.definitions import catalog

Clients = Callable[[str], Any]
MAX_EXECUTIONS = 100  # per state machine, newest first
ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class Outcomes:
    """An ended execution's outcome (its output's `outcome`, or its error), read once: it never changes."""

    def __init__(self, sfn: Any):
        self.sfn = sfn
        self._known: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def __call__(self, execution: dict[str, Any]) -> str | None:
        arn, status = execution["executionArn"], execution["status"]
        if status == "RUNNING":
            return None
        with self._lock:
            if arn in self._known:
                return self._known[arn]
        try:
            desc = self.sfn.describe_execution(executionArn=arn)
        except Exception:  # noqa: BLE001 - an execution gone since the listing: no outcome
            return None
        outcome = _outcome(desc)
        with self._lock:
            self._known[arn] = outcome
        return outcome


def _outcome(desc: dict[str, Any]) -> str | None:
    if desc["status"] == "SUCCEEDED":
        try:
            output = json.loads(desc.get("output") or "null")
        except ValueError:
            return None
        return str(output["outcome"]) if isinstance(output, dict) and "outcome" in output else None
    return str(desc.get("error") or desc["status"])


def executions(sfn: Any, outcomes: Outcomes) -> dict[str, Any]:
    """Every state machine and its newest executions, with their outcome."""
    machines = [m for page in sfn.get_paginator("list_state_machines").paginate() for m in page["stateMachines"]]
    rows = []
    for sm in sorted(machines, key=lambda m: m["name"]):
        listed = sfn.list_executions(stateMachineArn=sm["stateMachineArn"], maxResults=MAX_EXECUTIONS)["executions"]
        for e in listed:
            start, stop = e.get("startDate"), e.get("stopDate")
            rows.append({"arn": e["executionArn"], "name": e["name"], "stateMachine": sm["name"],
                         "stateMachineArn": sm["stateMachineArn"], "status": e["status"],
                         "start": _iso(start), "stop": _iso(stop),
                         "durationMs": (stop - start).total_seconds() * 1000 if start and stop else None,
                         "outcome": outcomes(e)})
    rows.sort(key=lambda r: r["start"] or "", reverse=True)
    return {"machines": [{"name": m["name"], "arn": m["stateMachineArn"]} for m in sorted(machines, key=lambda m: m["name"])],
            "executions": rows}


def fleet(clients: Clients) -> dict[str, Any]:
    """Cars by status, each with the ride or maintenance job it is on."""
    from fleet_domain.data.cars import CarRepository
    from fleet_domain.data.jobs import MaintenanceJobRepository
    from fleet_domain.data.rides import RideRepository

    ddb = clients("dynamodb")
    cars = CarRepository(ddb, cars_table=catalog.table("Cars").table_name).all()
    rides = RideRepository(ddb, rides_table=catalog.table("Rides").table_name)
    jobs = MaintenanceJobRepository(ddb, jobs_table=catalog.table("MaintenanceJobs").table_name)
    by_status: dict[str, list[dict[str, Any]]] = {}
    for car in cars:
        row: dict[str, Any] = {"car_id": car.car_id, "vin": car.vin, "model": car.model, "status": car.status.value,
                               "battery_pct": car.battery_pct, "odometer_km": car.odometer_km, "version": car.version,
                               "updated_at": car.updated_at}
        if car.ride_id:
            ride = rides.get(car.ride_id)
            row["ride"] = {"ride_id": car.ride_id, "status": ride.status.value if ride else None,
                           "passengers": ride.passengers if ride else None}
        if car.job_id:
            job = jobs.get(car.job_id)
            row["job"] = {"job_id": car.job_id, "status": job.status.value if job else None,
                          "reason": job.reason if job else None}
        by_status.setdefault(car.status.value, []).append(row)
    return {"total": len(cars), "byStatus": by_status}


def dlq(clients: Clients, queue_url: str) -> dict[str, Any]:
    """The failures not yet redriven (the Failures table, not the queue: every reader sees all)."""
    from fleet_domain.control.dlq import detail

    return {"messages": [_jsonable(detail(f)) for f in dead_letters(clients, queue_url).list()]}


def dead_letters(clients: Clients, queue_url: str) -> Any:
    from fleet_domain.control.dlq import DeadLetterQueue
    from fleet_domain.data.failures import FailureRepository

    return DeadLetterQueue(clients("sqs"), queue_url,
                           FailureRepository(clients("dynamodb"), catalog.table("Failures").table_name))


def functions(sfn: Any, clients: Clients, executions_listed: list[dict[str, Any]], per_function: int = 20,
              histories: int = 60) -> dict[str, Any]:
    """Each catalog function: its invocations by the recent executions (from their histories:
    when, which execution and state, how long, the error) and its latest log lines."""
    from workflows.trace.model import ExecutionTrace

    names = {f.function_name: f for f in catalog.FUNCTIONS}
    calls: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for row in executions_listed[:histories]:
        try:
            events = [ev for page in sfn.get_paginator("get_execution_history").paginate(executionArn=row["arn"])
                      for ev in page["events"]]
            desc = sfn.describe_execution(executionArn=row["arn"])
        except Exception:  # noqa: BLE001 - gone since the listing
            continue
        owners = ExecutionTrace.build(desc, events).event_state()
        for call in _lambda_calls(events, names):
            visit = owners.get(call.pop("eventId"))
            calls[call.pop("function")].append({"execution": row["name"], "executionArn": row["arn"],
                                                "state": visit.name if visit else None, **call})
    logs = clients("logs")
    out = []
    for name, f in sorted(names.items()):
        invocations = sorted(calls[name], key=lambda c: c["at"] or "", reverse=True)
        out.append({"name": name, "logicalId": f.logical_id, "memoryMb": f.memory_mb,
                    "invocations": invocations[:per_function], "count": len(invocations),
                    "errors": sum(1 for c in invocations if c["error"]),
                    "metrics": _metrics(clients, name), "logs": _log_lines(logs, f"/aws/lambda/{name}")})
    return {"functions": out}


#: The window the functions view reads metrics over: wide, as a virtual clock runs ahead of the wall.
METRICS_WINDOW = timedelta(days=14)


def _metrics(clients: Clients, function_name: str) -> dict[str, Any] | None:
    """The function's Lambda metrics and REPORT-line figures (workflows/cost/reports.py); None
    when the local cloud keeps none (no CloudWatch there)."""
    from workflows.cost.reports import function_summary

    now = datetime.now(UTC)
    try:
        return function_summary(clients("cloudwatch"), clients("logs"), function_name,
                                now - METRICS_WINDOW, now + METRICS_WINDOW)
    except Exception:  # noqa: BLE001 - a cloud without CloudWatch: said as None
        return None


def _lambda_calls(events: list[dict[str, Any]], names: dict[str, Any]) -> list[dict[str, Any]]:
    """Each Lambda invocation in a history: its function (the FunctionName it was scheduled with),
    when, how long and its error; followed by event ids (TaskStarted and its end point back)."""
    by_id = {ev["id"]: ev for ev in events}
    scheduled: dict[int, dict[str, Any]] = {}
    for ev in events:
        d = ev.get("taskScheduledEventDetails")
        if d and d.get("resourceType") == "lambda":
            try:
                parameters = json.loads(d.get("parameters") or "{}")
            except ValueError:
                continue
            target = str(parameters.get("FunctionName", "")) if isinstance(parameters, dict) else ""
            function = next((n for n in names if target == n or target.endswith(f":function:{n}")
                             or f":function:{n}:" in target), None)
            if function:
                scheduled[ev["id"]] = {"function": function, "eventId": ev["id"], "at": _iso(ev["timestamp"]),
                                       "durationMs": None, "error": None, "_start": ev["timestamp"]}
    calls = dict(scheduled)
    for ev in events:
        kind = ev["type"]
        if kind not in ("TaskSucceeded", "TaskFailed", "TaskTimedOut"):
            continue
        origin = by_id.get(ev.get("previousEventId"))
        while origin is not None and origin["id"] not in scheduled and origin["type"] in ("TaskStarted", "TaskSubmitted"):
            origin = by_id.get(origin.get("previousEventId"))
        call = calls.get(origin["id"]) if origin else None
        if call is None:
            continue
        call["durationMs"] = (ev["timestamp"] - call["_start"]).total_seconds() * 1000
        details: dict[str, Any] = next((v for k, v in ev.items() if k.endswith("EventDetails")), {})
        call["error"] = details.get("error") if kind != "TaskSucceeded" else None
    return [{k: v for k, v in c.items() if k != "_start"} for c in calls.values()]


def _log_lines(logs: Any, group: str, limit: int = 50) -> list[dict[str, Any]] | None:
    """The group's latest lines; None when the local cloud keeps no logs for it."""
    try:
        events = logs.filter_log_events(logGroupName=group, limit=1000).get("events", [])  # oldest first
    except Exception:  # noqa: BLE001 - no such group (no logs kept): said as None
        return None
    return [{"at": e.get("timestamp"), "message": e.get("message", "")} for e in events[-limit:]]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
