"""RequestSignOff: stores the sign-off task token on the job for the technician.

Called with `.waitForTaskToken`: the maintenance waits for {passed, notes} sent with that token
(fleet_domain.control.resume.sign_off), not for this function's result.
In:  {job_id, car_id, checks, parts, technician, task_token, at}
Out: {job_id, status: AWAITING_SIGN_OFF}. Run again, it stores the new token.
"""


from fleet_domain.data.jobs import MaintenanceJobRepository
from fleet_domain.logic.maintenance import request_sign_off
from fleet_domain.models.maintenance import SignOffRequest
from fleet_domain.platform.observability import lambda_handler, logger

jobs = MaintenanceJobRepository()


@lambda_handler()
def handler(event, context):
    request = SignOffRequest.model_validate(event)
    result = request_sign_off(request, jobs)
    logger.info("sign-off requested", job_id=request.job_id, car_id=request.car_id)
    return result
