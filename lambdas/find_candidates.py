"""FindCandidates: validates a ride request and lists the cars that can take it.

In:  the dispatch request {ride_id, pickup {lat, lon}, dropoff {lat, lon}, passengers}
Out: {ride (normalised), candidates: [{car_id, version, seats, location, battery_pct, odometer_km,
     km_since_service, distance_km}], count}: AVAILABLE cars (a Query on the status index) that
     seat the passengers, are not due for maintenance and have the battery for the drive, nearest
     to the pickup first, at most fleet_domain.rules.dispatch.MAX_CANDIDATES.
Raises RideValidationError("<field>: <rule>"), which the dispatch workflow catches by name.
"""

from aws_lambda_powertools.metrics import MetricUnit

from fleet_domain.data.cars import CarRepository
from fleet_domain.logic.dispatch import find_candidates
from fleet_domain.platform.observability import lambda_handler, logger, metrics

cars = CarRepository()


@lambda_handler()
def handler(event, context):
    found = find_candidates(event, cars)
    metrics.add_metric(name="DispatchCandidates", unit=MetricUnit.Count, value=found.count)
    logger.info("candidates found", ride_id=found.ride.ride_id, count=found.count,
                car_ids=[c.car_id for c in found.candidates])
    return found.model_dump(mode="json")
