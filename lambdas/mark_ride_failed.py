"""MarkRideFailed: the dispatch's operational failure, written down.

In:  {ride_id, candidate {car_id, version (AVAILABLE, as read)} | null, failed_state, error, at,
     execution_arn}
Out: {ride_id, car_id, car_status}: the ride FAILED; a car the ride holds OUT_OF_SERVICE when it
     was on the trip, AVAILABLE again when it was only reserved (car_id null when no car changed).
The car is read first and released only if the ride holds it. Every write is conditional on the
ride being this execution's: RideOwnerConflict, nothing changed, when a redrive dispatches it now.
"""

from aws_lambda_powertools.metrics import MetricUnit

from fleet_domain.data.rides import RideRepository
from fleet_domain.logic.dispatch import mark_ride_failed
from fleet_domain.models.ride import RideFailure
from fleet_domain.platform.observability import lambda_handler, logger, metrics

rides = RideRepository()


@lambda_handler()
def handler(event, context):
    request = RideFailure.model_validate(event)
    failed = mark_ride_failed(request, rides)
    metrics.add_metric(name="RidesFailed", unit=MetricUnit.Count, value=1)
    logger.warning("ride failed", ride_id=failed.ride_id, car_id=failed.car_id, car_status=failed.car_status,
                   failed_state=request.failed_state, error=request.error)
    return failed.model_dump(mode="json")
