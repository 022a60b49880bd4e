"""BookTechnician: books a technician and a bay for the job (the same booking when retried).

In:  {job {job_id, ...}, car {...}}
Out: {technician, slot}
"""


from fleet_domain.models.maintenance import TechnicianRequest
from fleet_domain.platform.observability import lambda_handler, logger
from fleet_domain.rules.maintenance import book_technician


@lambda_handler()
def handler(event, context):
    job = TechnicianRequest.model_validate(event).job
    booking = book_technician(job.job_id)
    logger.info("technician booked", job_id=job.job_id, technician=booking.technician, slot=booking.slot)
    return booking.model_dump(mode="json")
