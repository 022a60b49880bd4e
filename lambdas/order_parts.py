"""OrderParts: orders the parts the checks may need (one order per job, so a retry reorders nothing).

In:  {job {job_id, ...}, checks: [str]}
Out: {order_id, parts: [str]}
"""


from fleet_domain.models.maintenance import PartsRequest
from fleet_domain.platform.observability import lambda_handler, logger
from fleet_domain.rules.maintenance import order_parts


@lambda_handler()
def handler(event, context):
    request = PartsRequest.model_validate(event)
    order = order_parts(request.job.job_id, request.checks)
    logger.info("parts ordered", job_id=request.job.job_id, order_id=order.order_id, parts=order.parts)
    return order.model_dump(mode="json")
