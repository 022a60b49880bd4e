"""ValidateCar: checks a registration request (VIN, year, model, seats) and names the new car.

In:  {vin, model, year, seats, location?, battery_pct?, odometer_km?, correlation_id?}
Out: {car_id, vin, model, year, seats, location {lat, lon}, battery_pct, odometer_km}
Raises CarValidationError("<field>: <rule>"), which the register workflow catches by name.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from fleet_domain.registration import validate_registration

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@tracer.capture_lambda_handler
@metrics.log_metrics  # no cold-start EMF: Powertools prints it even with metrics disabled; Lambda reports Init Duration itself
def handler(event, context):
    car = validate_registration(event)
    metrics.add_metric(name="CarsValidated", unit=MetricUnit.Count, value=1)
    logger.info("car validated", car_id=car.car_id)
    return car.model_dump(mode="json")
