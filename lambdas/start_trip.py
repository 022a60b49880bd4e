"""StartTrip: hands the trip to the car and stores the task token on the ride.

Called with `.waitForTaskToken`: the dispatch waits for the trip report sent with that token
(fleet_domain.control.resume.complete_trip), not for this function's result.
In:  {ride_id, car_id, version (RESERVED), route, task_token, at, execution_arn}
Out: {ride_id, car_id, version (ON_TRIP)}
One transaction: car RESERVED -> ON_TRIP, ride REQUESTED -> ON_TRIP with the token; then the
CarStatusChanged event. Run again, it stores the new token and publishes again. The ride must be
this execution's: RideOwnerConflict, nothing changed, when a redrive dispatches it now.
"""

from aws_lambda_powertools.metrics import MetricUnit

from fleet_domain.data.rides import RideRepository
from fleet_domain.logic.dispatch import start_trip
from fleet_domain.models.ride import TripStart
from fleet_domain.platform.observability import lambda_handler, logger, metrics

rides = RideRepository()


@lambda_handler()
def handler(event, context):
    request = TripStart.model_validate(event)
    started = start_trip(request, rides)
    metrics.add_metric(name="TripsStarted", unit=MetricUnit.Count, value=1)
    logger.info("trip started", ride_id=started.ride_id, car_id=started.car_id, version=started.version)
    return started.model_dump(mode="json")
