"""MarkMaintenanceFailed: the maintenance's operational failure, written down.

In:  {job_id, car_id, version (IN_MAINTENANCE), failed_state, error, at, execution_arn}
Out: {job_id, car_id, car_status}: the job FAILED and the car OUT_OF_SERVICE, if the job still
     holds it at that version (car_status null when the car was not changed).
"""

from aws_lambda_powertools.metrics import MetricUnit

from fleet_domain.data.jobs import MaintenanceJobRepository
from fleet_domain.logic.maintenance import mark_maintenance_failed
from fleet_domain.models.maintenance import MaintenanceFailure
from fleet_domain.platform.observability import lambda_handler, logger, metrics

jobs = MaintenanceJobRepository()


@lambda_handler()
def handler(event, context):
    request = MaintenanceFailure.model_validate(event)
    result = mark_maintenance_failed(request, jobs)
    metrics.add_metric(name="MaintenanceFailed", unit=MetricUnit.Count, value=1)
    logger.warning("maintenance failed", job_id=request.job_id, car_id=request.car_id,
                   car_status=result["car_status"], failed_state=request.failed_state, error=request.error)
    return result
