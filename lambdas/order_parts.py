"""OrderParts: orders the parts the checks may need (one order per job, so a retry reorders nothing).

In:  {job {job_id, ...}, checks: [str]}
Out: {order_id, parts: [str]}
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

from fleet_domain.maintenance import order_parts
from fleet_domain.workshop import PartsRequest

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    request = PartsRequest.model_validate(event)
    order = order_parts(request.job.job_id, request.checks)
    logger.info("parts ordered", job_id=request.job.job_id, order_id=order.order_id, parts=order.parts)
    return order.model_dump(mode="json")
