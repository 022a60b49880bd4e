"""ReleaseStranded: EventBridge delivers Step Functions' "Execution Status Change" event of a fleet
execution that ended FAILED, TIMED_OUT or ABORTED; what the execution held is released.

In:  the event (source aws.states; detail {executionArn, stateMachineArn, name, status, input, error, cause, stopDate})
Out: {execution_arn, workflow, ride_id, job_id, car_id, car_status, note}
"""

from aws_lambda_powertools.metrics import MetricUnit

from fleet_domain.data.cars import CarRepository
from fleet_domain.data.jobs import MaintenanceJobRepository
from fleet_domain.data.rides import RideRepository
from fleet_domain.logic.stranded import release_stranded
from fleet_domain.models.stranded import ExecutionEnded
from fleet_domain.platform.observability import lambda_handler, logger, metrics
from fleet_domain.platform.settings import settings

rides, jobs, cars = RideRepository(), MaintenanceJobRepository(), CarRepository()


@lambda_handler()
def handler(event, context):
    ended = ExecutionEnded.from_event(event)
    released = release_stranded(ended, settings().workflow_of(ended.state_machine_arn), rides, jobs, cars)
    if released.car_id:
        metrics.add_metric(name="CarsReleased", unit=MetricUnit.Count, value=1)
    logger.warning("stranded execution released", **released.model_dump(mode="json"))
    return released.model_dump(mode="json")
