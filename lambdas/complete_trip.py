"""CompleteTrip: closes a trip with the car's report and says whether maintenance is due.

In:  {ride_id, car_id, version (ON_TRIP), before {odometer_km, battery_pct, km_since_service},
     route, dropoff, report {odometer_km?, battery_pct?} (the task token's output), at, execution_arn}
Out: {car {car_id, status, version, odometer_km, battery_pct, km_since_service},
     maintenance {due, reason}}
One transaction: car ON_TRIP -> AVAILABLE at the dropoff, ride ON_TRIP -> COMPLETED; then the
CarStatusChanged event. Run again, it answers with what the first run stored. A report that
cannot be true raises TripReportError; a ride another execution (a redrive) dispatches now,
RideOwnerConflict, nothing changed.
"""

from aws_lambda_powertools.metrics import MetricUnit

from fleet_domain.data.rides import RideRepository
from fleet_domain.logic.dispatch import complete_trip
from fleet_domain.models.ride import TripCompletion
from fleet_domain.platform.observability import lambda_handler, logger, metrics

rides = RideRepository()


@lambda_handler()
def handler(event, context):
    request = TripCompletion.model_validate(event)
    completed = complete_trip(request, rides)
    metrics.add_metric(name="TripsCompleted", unit=MetricUnit.Count, value=1)
    if completed.maintenance.due:
        metrics.add_metric(name="MaintenanceDue", unit=MetricUnit.Count, value=1)
    logger.info("trip completed", ride_id=request.ride_id, car_id=request.car_id,
                odometer_km=completed.car.odometer_km, maintenance_due=completed.maintenance.due)
    return completed.model_dump(mode="json")
