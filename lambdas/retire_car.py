"""RetireCar: closes the job and takes the car out of the fleet for good.

In:  {job_id, car_id, version (IN_MAINTENANCE), retirement {reason, findings?}, sign_off, at,
     execution_arn}
Out: {car_id, status: RETIRED, version}
One transaction: car IN_MAINTENANCE -> RETIRED, job RETIRED; then the CarStatusChanged event.
"""

from aws_lambda_powertools.metrics import MetricUnit

from fleet_domain.data.jobs import MaintenanceJobRepository
from fleet_domain.logic.maintenance import retire_car
from fleet_domain.models.maintenance import CarRetirement
from fleet_domain.platform.observability import lambda_handler, logger, metrics

jobs = MaintenanceJobRepository()


@lambda_handler()
def handler(event, context):
    request = CarRetirement.model_validate(event)
    closed = retire_car(request, jobs)
    metrics.add_metric(name="CarsRetired", unit=MetricUnit.Count, value=1)
    logger.info("car retired", job_id=request.job_id, car_id=closed.car_id, reason=request.retirement.reason)
    return closed.model_dump(mode="json")
