"""ReleaseStranded's use case: an execution that ended without its own clean-up (stopped, timed
out, failed outside its Catch) releases what it held, and says why.

- dispatch: the ride it dispatched FAILED; the car RESERVED or ON_TRIP for that ride AVAILABLE;
- maintenance: the job it opened (named after the execution) FAILED; the car IN_MAINTENANCE for
  that job AVAILABLE, so it can be sent to maintenance again;
- register: the car it left REGISTERING REGISTRATION_FAILED, so it can be registered again.

Only what this execution holds is touched (the ride's `dispatched_by`, the job's execution, the
car's holder and `registered_by` are conditions of the writes: a ride a redrive recorded again
since it was read is refused), so an event delivered twice, late, or after the workflow's own
clean-up changes nothing; the same event again (its first attempt's answer lost) answers and
publishes what that attempt did. Every car change is published with the reason.
"""

from __future__ import annotations

from fleet_domain.data import car_events
from fleet_domain.data.car_events import Publish, car_event
from fleet_domain.data.cars import CarRepository, registration_release
from fleet_domain.data.jobs import MaintenanceJobRepository
from fleet_domain.data.rides import RideRepository
from fleet_domain.models.car import CarChange
from fleet_domain.models.errors import CarStateConflict, RideOwnerConflict
from fleet_domain.models.maintenance import ACTIVE_JOB_STATUSES
from fleet_domain.models.ride import ACTIVE_RIDE_STATUSES
from fleet_domain.models.stranded import ExecutionEnded, Released
from fleet_domain.rules.registration import car_id_for

ATTEMPTS = 3  # a car that moved between the read and the write is read again


def release_stranded(ended: ExecutionEnded, workflow: str | None, rides: RideRepository, jobs: MaintenanceJobRepository,
                     cars: CarRepository, publish: Publish = car_events.publish) -> Released:
    for attempt in range(ATTEMPTS):
        try:
            released, change = _release(ended, workflow, rides, jobs, cars)
            break
        except CarStateConflict:
            if attempt == ATTEMPTS - 1:
                raise
    if change is not None:
        publish([car_event(change, ended.at, ended.execution_arn, f"released: {released.note}")])
        released.car_id, released.car_status = change.car_id, change.status
    return released


def _release(ended: ExecutionEnded, workflow: str | None, rides: RideRepository, jobs: MaintenanceJobRepository,
             cars: CarRepository) -> tuple[Released, CarChange | None]:
    given = ended.input or {}
    released = Released(execution_arn=ended.execution_arn, workflow=workflow, note=ended.reason)
    if workflow == "dispatch" and isinstance(given.get("ride_id"), str):
        ride_id = released.ride_id = given["ride_id"]
        ride = rides.get(ride_id)
        not_held = "nothing held: the ride is not this execution's, or it ended already"
        if ride and ride.dispatched_by == ended.execution_arn and ride.reason == ended.reason and ride.car_outcome:
            return released, CarChange(**ride.car_outcome)  # an earlier attempt released it: publish it again
        if ride is None or ride.dispatched_by != ended.execution_arn or ride.status not in ACTIVE_RIDE_STATUSES:
            released.note = not_held
            return released, None
        car = cars.get(ride.car_id) if ride.car_id else cars.reserved_for(ride_id)
        try:
            return released, rides.release(ride_id, car, ended.reason, ended.at, ended.execution_arn)
        except RideOwnerConflict:  # a redrive recorded the ride again since it was read
            released.note = not_held
            return released, None
    if workflow == "maintenance":
        job_id = released.job_id = ended.name  # a job is named after its execution
        job = jobs.get(job_id)
        if job is None or (job.execution_arn not in (None, ended.execution_arn)) or job.status not in ACTIVE_JOB_STATUSES:
            released.note = "nothing held: the job is not this execution's, or it ended already"
            return released, None
        return released, jobs.release(job_id, cars.get(job.car_id), ended.reason, ended.at)
    if workflow == "register" and isinstance(given.get("vin"), str):
        car = cars.get(car_id_for(given["vin"]))
        change = registration_release(cars, car, ended.execution_arn, ended.at) if car is not None else None
        if change is None:
            released.note = "nothing held: no car left REGISTERING by this execution"
        return released, change
    released.note = "nothing held: not a fleet workflow's execution, or no input to tell what it held"
    return released, None
