"""InspectCar: the initial health check of a newly registered car.

In:  the car as ValidateCar returns it: {car_id, vin, model, year, seats, location, battery_pct,
     odometer_km} (other fields are ignored)
Out: {car_id, passed, findings: [str], battery_pct}
A failed inspection is a result (passed=false), not an error. TransientInspectionError is
retried by the register workflow.
"""

from aws_lambda_powertools.metrics import MetricUnit

from fleet_domain.models.car import CarDetails
from fleet_domain.platform.observability import lambda_handler, logger, metrics
from fleet_domain.rules.inspection import inspect


@lambda_handler()
def handler(event, context):
    car = CarDetails.model_validate(event)
    result = inspect(car)
    metrics.add_metric(name="InspectionsPassed" if result.passed else "InspectionsFailed", unit=MetricUnit.Count,
                       value=1)
    logger.info("car inspected", car_id=car.car_id, passed=result.passed, findings=result.findings)
    return result.model_dump(mode="json")
