"""ReturnToService: closes the job and puts the car back in the fleet.

In:  {job_id, car_id, version (IN_MAINTENANCE), sign_off, road_test, at, execution_arn}
Out: {car_id, status: AVAILABLE, version}
One transaction: car IN_MAINTENANCE -> AVAILABLE (charged, service counter reset), job COMPLETED;
then the CarStatusChanged event. Run again, it answers with the same change and publishes again.
"""

from aws_lambda_powertools.metrics import MetricUnit

from fleet_domain.data.jobs import MaintenanceJobRepository
from fleet_domain.logic.maintenance import return_to_service
from fleet_domain.models.maintenance import ServiceReturn
from fleet_domain.platform.observability import lambda_handler, logger, metrics

jobs = MaintenanceJobRepository()


@lambda_handler()
def handler(event, context):
    request = ServiceReturn.model_validate(event)
    closed = return_to_service(request, jobs)
    metrics.add_metric(name="CarsBackInService", unit=MetricUnit.Count, value=1)
    logger.info("back in service", job_id=request.job_id, car_id=closed.car_id, version=closed.version)
    return closed.model_dump(mode="json")
