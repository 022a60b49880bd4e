"""RequestSignOff: stores the sign-off task token on the job for the technician.

Called with `.waitForTaskToken`: the maintenance waits for {passed, notes} sent with that token
(fleet_domain.resume.sign_off), not for this function's result.
In:  {job_id, car_id, checks, parts, technician, task_token, at}
Out: {job_id, status: AWAITING_SIGN_OFF}. Run again, it stores the new token.
"""


from fleet_domain.maintenance_repository import MaintenanceJobRepository
from fleet_domain.observability import lambda_handler, logger
from fleet_domain.workshop import SignOffRequest, request_sign_off

jobs = MaintenanceJobRepository()


@lambda_handler()
def handler(event, context):
    request = SignOffRequest.model_validate(event)
    result = request_sign_off(request, jobs)
    logger.info("sign-off requested", job_id=request.job_id, car_id=request.car_id)
    return result
