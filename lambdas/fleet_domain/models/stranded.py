"""An execution that ended without its own clean-up, and what releasing it did."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fleet_domain.models.base import DomainModel

#: The statuses of an execution that ended without reaching its own end state.
ENDED_WITHOUT_CLEANUP = ("FAILED", "TIMED_OUT", "ABORTED")


class ExecutionEnded(DomainModel):
    """Step Functions' "Execution Status Change" event of an execution that ended, as EventBridge
    delivers it (source aws.states)."""

    execution_arn: str
    state_machine_arn: str
    name: str
    status: str
    input: dict[str, Any] | None = None
    error: str | None = None
    cause: str | None = None
    at: str

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> ExecutionEnded:
        detail = event["detail"]
        text = detail.get("input")
        try:
            given = json.loads(text) if isinstance(text, str) else text
        except ValueError:
            given = None
        stopped = detail.get("stopDate")
        at = (datetime.fromtimestamp(stopped / 1000, UTC) if isinstance(stopped, int | float)
              else datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return cls(execution_arn=detail["executionArn"], state_machine_arn=detail["stateMachineArn"],
                   name=detail.get("name") or detail["executionArn"].rsplit(":", 1)[-1], status=detail["status"],
                   input=given if isinstance(given, dict) else None, error=detail.get("error"),
                   cause=detail.get("cause"), at=at)

    @property
    def reason(self) -> str:
        """Why what it held was released, as the ride, the job and the car event record it."""
        why = ": ".join(part for part in (self.error, (self.cause or "")[:300]) if part)
        return f"execution {self.status}" + (f" ({why})" if why else "") + " without its own clean-up"


class Released(DomainModel):
    execution_arn: str
    workflow: str | None
    ride_id: str | None = None
    job_id: str | None = None
    car_id: str | None = None
    car_status: str | None = None  # what the car was moved to; None when no car was held
    note: str = ""
