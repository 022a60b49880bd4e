"""The MaintenanceJobs table, and the car side of every change a job makes: a car and its job
change together, in one TransactWriteItems, each item conditional on the state it leaves
(status, version, which job holds the car). As in rides.py, a read only follows a
cancelled transaction, to tell an earlier attempt of the same step (answered idempotently) from
someone else's change (CarStateConflict).

Job items: job_id (the maintenance execution's name), car_id, reason, status (JobStatus),
opened_at, updated_at, execution_arn, ride_id (when a dispatch asked for it), car_version (the
car's IN_MAINTENANCE version), checks, parts, technician, task_token while awaiting the
sign-off, sign_off, road_test, closed_at, closed_car_version, reason_closed.
"""

from __future__ import annotations

from typing import Any

from fleet_domain.data.base import Cancelled, Repository, item, values
from fleet_domain.data.cars import CarRepository, as_found
from fleet_domain.models.car import Car, CarChange, CarStatus
from fleet_domain.models.errors import CarStateConflict
from fleet_domain.models.maintenance import ACTIVE_JOB_STATUSES, JobStatus, MaintenanceJob


class MaintenanceJobRepository(Repository):
    CAR_INDEX = "car-index"

    def __init__(self, client: Any = None, jobs_table: str | None = None, cars_table: str | None = None):
        super().__init__(client, maintenance_jobs=jobs_table)
        self.cars = CarRepository(client, cars_table=cars_table)

    # --- reads ---------------------------------------------------------------------------

    def get(self, job_id: str) -> MaintenanceJob | None:
        found = self.read("maintenance_jobs", {"job_id": job_id})
        return MaintenanceJob.model_validate(found) if found else None

    def for_car(self, car_id: str) -> list[MaintenanceJob]:
        items = self.query("maintenance_jobs", IndexName=self.CAR_INDEX, KeyConditionExpression="car_id = :car",
                           ExpressionAttributeValues=values(car=car_id))
        return sorted((MaintenanceJob.model_validate(i) for i in items), key=lambda j: j.opened_at)

    def all(self) -> list[MaintenanceJob]:
        """Every job (a Scan: for operators and tests, never on a workflow's path)."""
        return sorted((MaintenanceJob.model_validate(found) for found in self.scan("maintenance_jobs")),
                      key=lambda j: j.opened_at)

    # --- the job -------------------------------------------------------------------------

    def open(self, job: MaintenanceJob, available_version: int) -> CarChange:
        """AVAILABLE (at the version read) -> IN_MAINTENANCE held by the job, and the job OPEN.
        Cancelled when the car changed since it was read or the job exists."""
        car_update, change = self.cars.status_change(job.car_id, CarStatus.AVAILABLE, CarStatus.IN_MAINTENANCE,
                                                     available_version, job.opened_at, holder=job.job_id)
        self.transact(
            car_update,
            {"Put": {
                "TableName": self.table("maintenance_jobs"),
                "Item": item(job.model_dump(mode="json")),
                "ConditionExpression": "attribute_not_exists(job_id)",
            }},
        )
        return change

    def await_sign_off(self, job_id: str, token: str, checks: list[dict[str, Any]], parts: dict[str, Any], technician: dict[str, Any],
                       at: str) -> bool:
        """The job AWAITING_SIGN_OFF with the task token and what the technician needs to decide.
        Run again (a retried attempt has a new token), it stores the new token."""
        return self.update(
            TableName=self.table("maintenance_jobs"), Key={"job_id": {"S": job_id}},
            UpdateExpression="SET #status = :awaiting, task_token = :token, checks = :checks, parts = :parts, "
                             "technician = :technician, updated_at = :at",
            ConditionExpression="#status IN (:open, :awaiting)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values(awaiting=JobStatus.AWAITING_SIGN_OFF.value, token=token, checks=checks,
                                             parts=parts, technician=technician, at=at, open=JobStatus.OPEN.value),
        )

    def close(self, job_id: str, car_id: str, version: int, car_to: CarStatus, job_to: JobStatus, at: str,
              car_set: dict[str, Any] | None = None, job_set: dict[str, Any] | None = None) -> CarChange:
        """IN_MAINTENANCE (version, held by the job) -> car_to, and the job closed as job_to.
        Run again after it took effect, it answers with the same change."""
        car_update, change = self.cars.status_change(car_id, CarStatus.IN_MAINTENANCE, car_to, version, at,
                                                     holder=job_id, fields=car_set)
        try:
            self.transact(car_update, self._job_close(job_id, job_to, at, version + 1, job_set or {}))
            return change
        except Cancelled:
            pass
        job = self.get(job_id)
        if job and job.status is job_to and job.closed_car_version == version + 1:
            return change
        raise CarStateConflict(
            f"cannot close job {job_id}: expected car {car_id} IN_MAINTENANCE for it at version {version}; found the "
            f"car {as_found(self.cars.get(car_id))} and the job {job.status.value if job else 'missing'}")

    def fail(self, job_id: str, car_id: str, version: int, reason: str, at: str) -> CarChange | None:
        """The job FAILED and the car it holds (at version) OUT_OF_SERVICE. A car the job no longer
        holds is left alone. Returns the car change (again on a repeated call), or None."""
        car_update, change = self.cars.status_change(car_id, CarStatus.IN_MAINTENANCE, CarStatus.OUT_OF_SERVICE,
                                                     version, at, holder=job_id)
        try:
            self.transact(car_update, self._job_close(job_id, JobStatus.FAILED, at, version + 1,
                                                      {"reason_closed": reason}))
            return change
        except Cancelled as cancelled:
            if not cancelled.failed(1):  # the job is still open but the car is not ours: close the job only
                self.update(**self._job_close(job_id, JobStatus.FAILED, at, None, {"reason_closed": reason})["Update"])
                return None
        job = self.get(job_id)
        if job and job.status is JobStatus.FAILED and job.closed_car_version == version + 1:
            return change
        return None

    def release(self, job_id: str, car: Car | None, reason: str, at: str) -> CarChange | None:
        """The job FAILED (`reason`) for an execution that ended without its own clean-up, and the
        car it holds, as read (IN_MAINTENANCE for this job), released: AVAILABLE, to be sent to
        maintenance again. Returns the car change, or None when no car was released.
        CarStateConflict when the car moved since it was read (read it again)."""
        close = self._job_close(job_id, JobStatus.FAILED, at, None, {"reason_closed": reason})
        if car is not None and car.job_id == job_id and car.status is CarStatus.IN_MAINTENANCE:
            car_update, change = self.cars.status_change(car.car_id, CarStatus.IN_MAINTENANCE, CarStatus.AVAILABLE,
                                                         car.version, at, holder=job_id)
            try:
                self.transact(car_update, close)
                return change
            except Cancelled as cancelled:
                if not cancelled.failed(1):
                    raise CarStateConflict(f"car {car.car_id} moved while job {job_id} was released") from None
                try:  # the job was closed already; the car is still held for it
                    self.cars.transact(car_update)
                    return change
                except Cancelled:
                    return None
        self.update(**close["Update"])
        return None

    # --- resuming (fleet_domain.control.resume) ---------------------------------------------------

    def claim_sign_off(self, job_id: str, token: str, sign_off: dict[str, Any], at: str) -> bool:
        """Take the job's task token for this sign-off, so no second sign-off can use it."""
        return self.update(
            TableName=self.table("maintenance_jobs"), Key={"job_id": {"S": job_id}},
            UpdateExpression="SET #status = :signed, sign_off = :sign_off, updated_at = :at REMOVE task_token",
            ConditionExpression="#status = :awaiting AND task_token = :token",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values(signed=JobStatus.SIGNED_OFF.value, sign_off=sign_off, at=at,
                                             awaiting=JobStatus.AWAITING_SIGN_OFF.value, token=token),
        )

    def reopen_sign_off(self, job_id: str, token: str) -> bool:
        """Give the token back after the sign-off could not be delivered for a passing reason."""
        return self.update(
            TableName=self.table("maintenance_jobs"), Key={"job_id": {"S": job_id}},
            UpdateExpression="SET #status = :awaiting, task_token = :token REMOVE sign_off",
            ConditionExpression="#status = :signed AND attribute_not_exists(task_token)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values(awaiting=JobStatus.AWAITING_SIGN_OFF.value, token=token,
                                             signed=JobStatus.SIGNED_OFF.value),
        )

    # --- items ---------------------------------------------------------------------------

    def _job_close(self, job_id: str, to: JobStatus, at: str, car_version: int | None,
                   job_set: dict[str, Any]) -> dict[str, Any]:
        fields = {**job_set, **({"closed_car_version": car_version} if car_version is not None else {})}
        sets = "".join(f", {k} = :set_{k}" for k in fields)
        return {"Update": {
            "TableName": self.table("maintenance_jobs"), "Key": {"job_id": {"S": job_id}},
            "UpdateExpression": f"SET #status = :to, closed_at = :at, updated_at = :at{sets} REMOVE task_token",
            "ConditionExpression": "#status IN (" + ", ".join(f":active_{s.value.lower()}" for s in ACTIVE_JOB_STATUSES) + ")",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                **values(to=to.value, at=at),
                **values(**{f"active_{s.value.lower()}": s.value for s in ACTIVE_JOB_STATUSES}),
                **values(**{f"set_{k}": v for k, v in fields.items()}),
            },
        }}
