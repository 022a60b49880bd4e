"""RunCheck: runs one check on the car (one item of the maintenance workflow's Map).

In:  {job_id, car {...}, check}
Out: {check, passed, reading}; a failed check is a finding for the technician, not an error.
TransientCheckError (a rig's hiccup) is retried by the Map's iterator.
"""

from aws_lambda_powertools.metrics import MetricUnit

from fleet_domain.models.maintenance import CheckRequest
from fleet_domain.platform.observability import lambda_handler, logger, metrics
from fleet_domain.rules.maintenance import run_check


@lambda_handler()
def handler(event, context):
    request = CheckRequest.model_validate(event)
    result = run_check(request.check, request.car)
    metrics.add_metric(name="ChecksPassed" if result.passed else "ChecksFailed", unit=MetricUnit.Count, value=1)
    logger.info("check run", job_id=request.job_id, check=result.check, passed=result.passed)
    return result.model_dump(mode="json")
