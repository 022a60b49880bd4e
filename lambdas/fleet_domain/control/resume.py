"""Resuming a waiting workflow: the one place that completes a trip or signs off a job.

The dispatch waits in StartTrip, the maintenance in RequestSignOff, each on a task token its
Lambda stored on the ride or the job. The CLI (`fleet trip complete`, `fleet maintenance
sign-off`) and the REST API call these functions with their own boto3 clients.

Each first *claims* the token with a conditional write (the token is removed from the record as
the answer is stored), then sends it to Step Functions. So two callers racing to resume the same
ride cannot both succeed, and a second resume of a ride or job that is no longer waiting is
refused with NotWaiting, on every target (Step Functions itself would accept a repeated
SendTaskSuccess while the execution still runs). If Step Functions cannot take the answer for a
passing reason, the token is put back so the caller can try again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from fleet_domain.data.cars import CarRepository
from fleet_domain.data.jobs import MaintenanceJobRepository
from fleet_domain.data.rides import RideRepository

# Step Functions' answers meaning the token will never be accepted: the task is over.
_TOKEN_GONE = {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}


class NotWaiting(Exception):
    """The ride or job is not waiting to be resumed (unknown, not started, or already done).
    The message is one line, for the user."""


@dataclass(frozen=True)
class Resumed:
    kind: str  # "trip" | "sign-off"
    id: str  # ride_id | job_id
    execution_arn: str | None
    sent: dict[str, Any]  # what the waiting state received


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def complete_trip(sfn: Any, dynamodb: Any, ride_id: str, odometer_km: int | None = None,
                  battery_pct: float | None = None, rides_table: str | None = None,
                  cars_table: str | None = None) -> Resumed:
    """Report the end of a ride's trip. Values left out are estimated by CompleteTrip from the route.
    ValueError for a report that cannot be true; NotWaiting when the ride's trip is not waiting."""
    if odometer_km is not None and odometer_km < 0:
        raise ValueError("odometer_km must be 0 or more")
    if battery_pct is not None and not 0 <= battery_pct <= 100:
        raise ValueError("battery_pct must be between 0 and 100")
    rides = RideRepository(dynamodb, rides_table=rides_table, cars_table=cars_table)
    ride = rides.get(ride_id)
    if ride is None:
        raise NotWaiting(f"no ride {ride_id}")
    if not ride.waiting:
        raise NotWaiting(f"ride {ride_id} is {ride.status.value}, not waiting for its trip to complete"
                         + (" (its completion was already reported)" if ride.trip_report else ""))
    if odometer_km is not None and ride.car_id:
        car = CarRepository(dynamodb, cars_table=cars_table).get(ride.car_id)
        if car is not None and odometer_km < car.odometer_km:
            raise ValueError(f"odometer_km {odometer_km} is below the {car.odometer_km} km car {car.car_id} had "
                             "before the trip")
    report: dict[str, Any] = {"reported_at": _now()}
    if odometer_km is not None:
        report["odometer_km"] = odometer_km
    if battery_pct is not None:
        report["battery_pct"] = battery_pct
    token = ride.task_token
    assert token is not None
    if not rides.claim_trip_report(ride_id, token, report, report["reported_at"]):
        raise NotWaiting(f"ride {ride_id} is no longer waiting for its trip to complete (resumed by someone else)")
    _send(sfn, token, report, f"the trip of ride {ride_id}", lambda: rides.reopen_trip_report(ride_id, token),
          committed=lambda: _running(sfn, ride.dispatched_by))
    return Resumed("trip", ride_id, ride.dispatched_by, report)


def _running(sfn: Any, execution_arn: str) -> bool:
    try:
        return bool(sfn.describe_execution(executionArn=execution_arn)["status"] == "RUNNING")
    except ClientError:
        return False


def heartbeat_trip(sfn: Any, dynamodb: Any, ride_id: str, rides_table: str | None = None) -> Resumed:
    """The car's "still driving": keeps StartTrip's HeartbeatSeconds from running out."""
    ride = RideRepository(dynamodb, rides_table=rides_table).get(ride_id)
    if ride is None:
        raise NotWaiting(f"no ride {ride_id}")
    if not ride.waiting:
        raise NotWaiting(f"ride {ride_id} is {ride.status.value}, not on a trip that is waiting")
    try:
        sfn.send_task_heartbeat(taskToken=ride.task_token)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in _TOKEN_GONE:
            raise NotWaiting(f"the trip of ride {ride_id} is no longer waiting ({exc.response['Error']['Code']})") from None
        raise
    return Resumed("heartbeat", ride_id, ride.dispatched_by, {})


def sign_off(sfn: Any, dynamodb: Any, job_id: str, passed: bool, notes: str = "",
             jobs_table: str | None = None, technician: str | None = None) -> Resumed:
    """The technician's sign-off of a maintenance job: passed goes on to the road test, not
    passed retires the car. NotWaiting when the job is not waiting for a sign-off."""
    jobs = MaintenanceJobRepository(dynamodb, jobs_table=jobs_table)
    job = jobs.get(job_id)
    if job is None:
        raise NotWaiting(f"no maintenance job {job_id}")
    if not job.waiting:
        raise NotWaiting(f"maintenance job {job_id} is {job.status.value}, not waiting for a sign-off")
    answer: dict[str, Any] = {"passed": bool(passed), "notes": notes, "signed_off_at": _now()}
    if technician:
        answer["technician"] = technician
    token = job.task_token
    assert token is not None
    if not jobs.claim_sign_off(job_id, token, answer, answer["signed_off_at"]):
        raise NotWaiting(f"maintenance job {job_id} is no longer waiting for a sign-off (signed off by someone else)")
    _send(sfn, token, answer, f"maintenance job {job_id}", lambda: jobs.reopen_sign_off(job_id, token))
    return Resumed("sign-off", job_id, job.execution_arn, answer)


def _send(sfn: Any, token: str, output: dict[str, Any], what: str, reopen: Any, committed: Any = None) -> None:
    """`committed`: for a wait that commits a claimed answer when it runs out (the dispatch's
    EndTripWait), whether the execution is still running to do so."""
    import json

    try:
        sfn.send_task_success(taskToken=token, output=json.dumps(output))
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in _TOKEN_GONE:
            if committed is not None and committed():
                return  # the wait ran out after the claim: the execution completes with this answer
            raise NotWaiting(f"{what} is no longer waiting: Step Functions answered {code}") from None
        reopen()
        raise
    except Exception:
        reopen()
        raise
