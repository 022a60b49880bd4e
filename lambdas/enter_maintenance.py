"""EnterMaintenance: opens a maintenance job and takes the car into the workshop, or refuses.

In:  {request {car_id, reason, ride_id?}, job_id (the execution's name), at, execution_arn}
Out: {entered, job {job_id, car_id, reason, ride_id}, car {car_id, status, version, model, year,
     odometer_km, battery_pct, km_since_service}}; entered is false when the car is not
     AVAILABLE (on a trip, say): a domain outcome, nothing changed.
One transaction, conditional on the version read: car AVAILABLE -> IN_MAINTENANCE, job OPEN;
then the CarStatusChanged event. Raises MaintenanceRequestError or CarNotFoundError (user errors).
"""

from aws_lambda_powertools.metrics import MetricUnit

from fleet_domain.data.cars import CarRepository
from fleet_domain.data.jobs import MaintenanceJobRepository
from fleet_domain.logic.maintenance import enter_maintenance
from fleet_domain.models.maintenance import MaintenanceEntry
from fleet_domain.platform.observability import lambda_handler, logger, metrics

cars = CarRepository()
jobs = MaintenanceJobRepository()


@lambda_handler()
def handler(event, context):
    entry = MaintenanceEntry.model_validate(event)
    entered = enter_maintenance(entry, cars, jobs)
    metrics.add_metric(name="MaintenanceEntered" if entered.entered else "MaintenanceRefused",
                       unit=MetricUnit.Count, value=1)
    logger.info("maintenance entered" if entered.entered else "maintenance refused", job_id=entry.job_id,
                car_id=entered.car.car_id, car_status=entered.car.status)
    return entered.model_dump(mode="json")
