"""Publishing CarStatusChanged events for the status writes a Lambda makes itself.

The state machines publish the changes they write directly (ReserveCar -> PublishCarReserved);
a function that changes a car's status publishes the change right after its write, so every
version of every car reaches the audit history. A retried function publishes again: the audit
consumer keeps the first copy of a version and ignores the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from fleet_domain.models.car import CarChange, CarEvent, CarStatus
from fleet_domain.models.errors import EventPublishError
from fleet_domain.platform import clients
from fleet_domain.platform.settings import settings

SOURCE = "fleet.cars"
DETAIL_TYPE = "CarStatusChanged"

def events_client() -> Any:
    return clients.client("events")


def publish(changes: Iterable[CarEvent], client: Any = None, bus_name: str | None = None) -> None:
    """Put the changes on the fleet's bus, in order; EventPublishError when any is not taken."""
    entries = [{
        "EventBusName": bus_name or settings().required("fleet_bus_name"),
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": change.model_dump_json(exclude_none=True),
    } for change in changes]
    if not entries:
        return
    try:
        response = (client or events_client()).put_events(Entries=entries)
    except (BotoCoreError, ClientError) as exc:
        raise EventPublishError(f"CarStatusChanged not published: {exc}") from exc
    if response.get("FailedEntryCount"):
        codes = sorted({e.get("ErrorCode", "?") for e in response["Entries"] if e.get("ErrorCode")})
        raise EventPublishError(f"{response['FailedEntryCount']} CarStatusChanged event(s) not published: {codes}")


Publish = Callable[[Iterable[CarEvent]], None]


def car_event(change: CarChange, at: str, execution_arn: str | None, reason: str) -> CarEvent:
    return CarEvent(car_id=change.car_id, status=CarStatus(change.status), previous_status=CarStatus(change.previous_status),
                    version=change.version, at=at, execution_arn=execution_arn, reason=reason)
