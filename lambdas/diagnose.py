"""Diagnose: the checks a car in maintenance needs.

In:  {job {job_id, car_id, reason}, car {car_id, odometer_km, battery_pct, km_since_service, ...}}
Out: {job_id, checks: [str]}
"""


from fleet_domain.models.maintenance import Diagnosis
from fleet_domain.platform.observability import lambda_handler, logger
from fleet_domain.rules.maintenance import diagnose


@lambda_handler()
def handler(event, context):
    request = Diagnosis.model_validate(event)
    checks = diagnose(request.car, request.job.reason)
    logger.info("diagnosed", job_id=request.job.job_id, checks=checks)
    return {"job_id": request.job.job_id, "checks": checks}
