"""OrderParts: orders the parts the checks may need (one order per job, so a retry reorders nothing).

In:  {job {job_id, ...}, checks: [str]}
Out: {order_id, parts: [str]}
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

from fleet_domain.maintenance import order_parts
from fleet_domain.workshop import JobRef

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    job = JobRef.model_validate(event["job"])
    order = order_parts(job.job_id, list(event["checks"]))
    logger.info("parts ordered", job_id=job.job_id, order_id=order.order_id, parts=order.parts)
    return order.model_dump(mode="json")
