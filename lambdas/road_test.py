"""RoadTest: drives the car after the technician signed it off.

In:  {job_id, car {...}}
Out: {passed, findings: [str]}; a failed road test is a result (the car is retired), not an error.
TransientRoadTestError (an interrupted test) is retried by the maintenance workflow.
"""

from aws_lambda_powertools.metrics import MetricUnit

from fleet_domain.models.maintenance import RoadTestRequest
from fleet_domain.platform.observability import lambda_handler, logger, metrics
from fleet_domain.rules.maintenance import road_test


@lambda_handler()
def handler(event, context):
    request = RoadTestRequest.model_validate(event)
    result = road_test(request.car)
    metrics.add_metric(name="RoadTestsPassed" if result.passed else "RoadTestsFailed", unit=MetricUnit.Count,
                       value=1)
    logger.info("road test", job_id=request.job_id, passed=result.passed, findings=result.findings)
    return result.model_dump(mode="json")
