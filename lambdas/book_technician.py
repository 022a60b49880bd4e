"""BookTechnician: books a technician and a bay for the job (the same booking when retried).

In:  {job {job_id, ...}, car {...}}
Out: {technician, slot}
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

from fleet_domain.maintenance import book_technician
from fleet_domain.workshop import TechnicianRequest

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    job = TechnicianRequest.model_validate(event).job
    booking = book_technician(job.job_id)
    logger.info("technician booked", job_id=job.job_id, technician=booking.technician, slot=booking.slot)
    return booking.model_dump(mode="json")
