"""The maintenance workflow's use cases, one per Lambda that writes: enter maintenance, wait for
the sign-off, return the car to service, retire it, fail the job. Each applies the rules
(rules/maintenance.py), writes through the data layer and publishes the car's status changes; every
one is safe to run twice.
"""

from __future__ import annotations

from typing import Any

from fleet_domain.data import car_events
from fleet_domain.data.base import Cancelled
from fleet_domain.data.car_events import Publish, car_event
from fleet_domain.data.cars import CarRepository
from fleet_domain.data.jobs import MaintenanceJobRepository
from fleet_domain.models.car import Car, CarChange, CarSnapshot, CarStatus
from fleet_domain.models.errors import CarNotFoundError, CarStateConflict
from fleet_domain.models.maintenance import (
    CarRetirement,
    Closed,
    Entered,
    JobRef,
    JobStatus,
    MaintenanceEntry,
    MaintenanceFailure,
    MaintenanceJob,
    ServiceReturn,
    SignOffRequest,
)
from fleet_domain.rules.maintenance import validate_request

#: Reads of a car that keeps changing under EnterMaintenance before it gives up (CarStateConflict).
ENTER_ATTEMPTS = 3


# --- EnterMaintenance ----------------------------------------------------------------------------


def enter_maintenance(entry: MaintenanceEntry, cars: CarRepository, jobs: MaintenanceJobRepository,
                      publish: Publish = car_events.publish) -> Entered:
    request = validate_request(entry.request)
    ref = JobRef(job_id=entry.job_id, car_id=request.car_id, reason=request.reason, ride_id=request.ride_id)
    reason = f"maintenance job {entry.job_id}: {request.reason}"
    for _ in range(ENTER_ATTEMPTS):
        car = cars.get(request.car_id)
        if car is None:
            raise CarNotFoundError(f"car_id: no car {request.car_id} in the fleet")
        if car.status is CarStatus.IN_MAINTENANCE and car.job_id == entry.job_id:
            return _entered_before(car, entry, ref, reason, publish)
        if car.status is not CarStatus.AVAILABLE:
            return Entered(entered=False, job=ref, car=CarSnapshot.of(car))
        job = MaintenanceJob(job_id=entry.job_id, car_id=car.car_id, reason=request.reason, status=JobStatus.OPEN,
                             opened_at=entry.at, updated_at=entry.at, execution_arn=entry.execution_arn,
                             ride_id=request.ride_id, car_version=car.version + 1)
        try:
            change = jobs.open(job, car.version)
        except Cancelled as cancelled:
            if cancelled.failed(1):
                # The job exists: an earlier attempt of this step may have committed after this
                # one read the car (a late commit). Read again: if the car is in maintenance for
                # this job, that attempt did the work and this one answers as it did.
                now = cars.get(request.car_id)
                if now is not None and now.status is CarStatus.IN_MAINTENANCE and now.job_id == entry.job_id:
                    return _entered_before(now, entry, ref, reason, publish)
                existing = jobs.get(entry.job_id)
                raise CarStateConflict(
                    f"job {entry.job_id} exists ({existing.status.value if existing else 'gone'}), but car "
                    f"{car.car_id} is not in maintenance for it (it is {now.status.value if now else 'gone'})") from None
            continue  # the car changed since it was read: read it again
        publish([car_event(change, entry.at, entry.execution_arn, reason)])
        entered = CarSnapshot.of(car, status=change.status, version=change.version)
        return Entered(entered=True, job=ref, car=entered)
    raise CarStateConflict(f"car {request.car_id} changed {ENTER_ATTEMPTS} times while entering maintenance")


def _entered_before(car: Car, entry: MaintenanceEntry, ref: JobRef, reason: str, publish: Publish) -> Entered:
    """An earlier attempt of this step opened the job: answer as it did, publish the event again
    (CarHistory ignores a redelivered version)."""
    change = CarChange(car.car_id, CarStatus.AVAILABLE.value, CarStatus.IN_MAINTENANCE.value, car.version)
    publish([car_event(change, entry.at, entry.execution_arn, reason)])
    return Entered(entered=True, job=ref, car=CarSnapshot.of(car))


# --- RequestSignOff ------------------------------------------------------------------------------


def request_sign_off(request: SignOffRequest, jobs: MaintenanceJobRepository) -> dict[str, str]:
    if not jobs.await_sign_off(request.job_id, request.task_token, [c.model_dump() for c in request.checks],
                               request.parts.model_dump(), request.technician.model_dump(), request.at):
        job = jobs.get(request.job_id)
        raise CarStateConflict(f"job {request.job_id} cannot await a sign-off: it is "
                               f"{job.status.value if job else 'missing'}")
    return {"job_id": request.job_id, "status": JobStatus.AWAITING_SIGN_OFF.value}


# --- ReturnToService, RetireCar, MarkMaintenanceFailed -------------------------------------------


def return_to_service(request: ServiceReturn, jobs: MaintenanceJobRepository,
                      publish: Publish = car_events.publish) -> Closed:
    change = jobs.close(
        request.job_id, request.car_id, request.version, CarStatus.AVAILABLE, JobStatus.COMPLETED, request.at,
        car_set={"battery_pct": 100.0, "km_since_service": 0, "last_service_at": request.at},
        job_set={"sign_off": request.sign_off.model_dump(exclude_none=True),
                 "road_test": request.road_test.model_dump()},
    )
    publish([car_event(change, request.at, request.execution_arn, f"back in service after job {request.job_id}")])
    return Closed(car_id=request.car_id, status=change.status, version=change.version)


def retire_car(request: CarRetirement, jobs: MaintenanceJobRepository,
               publish: Publish = car_events.publish) -> Closed:
    reason = request.retirement.reason
    if request.retirement.findings:
        reason += ": " + "; ".join(request.retirement.findings)
    elif request.sign_off.notes:
        reason += f": {request.sign_off.notes}"
    change = jobs.close(request.job_id, request.car_id, request.version, CarStatus.RETIRED, JobStatus.RETIRED,
                        request.at, job_set={"reason_closed": reason,
                                             "sign_off": request.sign_off.model_dump(exclude_none=True)})
    publish([car_event(change, request.at, request.execution_arn, f"retired after job {request.job_id} ({reason})")])
    return Closed(car_id=request.car_id, status=change.status, version=change.version)


def mark_maintenance_failed(request: MaintenanceFailure, jobs: MaintenanceJobRepository,
                            publish: Publish = car_events.publish) -> dict[str, Any]:
    reason = f"{request.failed_state}: {request.error}"
    change = jobs.fail(request.job_id, request.car_id, request.version, reason, request.at)
    if change is None:
        return {"job_id": request.job_id, "car_id": request.car_id, "car_status": None}
    publish([car_event(change, request.at, request.execution_arn,
                       f"taken out of service: maintenance job {request.job_id} failed ({reason})")])
    return {"job_id": request.job_id, "car_id": request.car_id, "car_status": change.status}
