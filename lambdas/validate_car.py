"""ValidateCar: checks a registration request (VIN, year, model, seats) and names the new car.

In:  {vin, model, year, seats, location?, battery_pct?, odometer_km?, correlation_id?}
Out: {car_id, vin, model, year, seats, location {lat, lon}, battery_pct, odometer_km}
Raises CarValidationError("<field>: <rule>"), which the register workflow catches by name.
"""

from aws_lambda_powertools.metrics import MetricUnit

from fleet_domain.platform.observability import lambda_handler, logger, metrics
from fleet_domain.rules.registration import validate_registration


@lambda_handler(correlation_id_path="correlation_id")
def handler(event, context):
    car = validate_registration(event)
    metrics.add_metric(name="CarsValidated", unit=MetricUnit.Count, value=1)
    logger.info("car validated", car_id=car.car_id)
    return car.model_dump(mode="json")
