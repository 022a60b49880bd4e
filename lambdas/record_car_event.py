"""RecordCarEvent: the audit consumer that keeps each car's ordered status history.

In:  an EventBridge event {"detail-type": "CarStatusChanged", "source": "fleet.cars", "id", ...,
     "detail": {car_id, status, previous_status?, version, at, execution_arn?, reason?}}
Out: {car_id, version, recorded}; recorded is false when that version was already kept
     (EventBridge delivers at least once, so a redelivery is a no-op).
"""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from fleet_domain.data.car_history import CarHistoryRepository
from fleet_domain.models.car import CarStatusChanged
from fleet_domain.platform.observability import lambda_handler, logger, metrics

history = CarHistoryRepository()


@lambda_handler(correlation_id_path=correlation_paths.EVENT_BRIDGE)
def handler(event, context):
    change = CarStatusChanged.model_validate(event).detail
    recorded = history.record(change)
    metrics.add_metric(name="CarEventsRecorded" if recorded else "CarEventsRedelivered", unit=MetricUnit.Count,
                       value=1)
    logger.info("car event recorded" if recorded else "car event already recorded",
                car_id=change.car_id, version=change.version, status=change.status.value)
    return {"car_id": change.car_id, "version": change.version, "recorded": recorded}
