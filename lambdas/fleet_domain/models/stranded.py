"""An execution that ended without its own clean-up, and what releasing it did."""

import json
from datetime import UTC, datetime
from typing import Any

from fleet_domain.models.base import DomainModel

#: The statuses of an execution that ended without reaching its own end state.
ENDED_WITHOUT_CLEANUP = ("FAILED", "TIMED_OUT", "ABORTED")


class _Detail(DomainModel):
    executionArn: str  # Step Functions' field names, as the event spells them
    stateMachineArn: str
    name: str | None = None
    status: str
    input: str | None = None
    error: str | None = None
    cause: str | None = None
    stopDate: float | None = None


class _Envelope(DomainModel):
    detail: _Detail


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
    def from_event(cls, event: Any) -> "ExecutionEnded":
        """The event as EventBridge delivers it; pydantic's ValidationError for anything else."""
        detail = _Envelope.model_validate(event).detail
        try:
            given = json.loads(detail.input) if detail.input is not None else None
        except (ValueError, RecursionError):
            given = None
        when = datetime.now(UTC)
        if detail.stopDate is not None:
            try:
                when = datetime.fromtimestamp(detail.stopDate / 1000, UTC)
            except (OverflowError, ValueError, OSError):
                pass  # not a date: the release is dated now
        return cls(execution_arn=detail.executionArn, state_machine_arn=detail.stateMachineArn,
                   name=detail.name or detail.executionArn.rsplit(":", 1)[-1], status=detail.status,
                   input=given if isinstance(given, dict) else None, error=detail.error, cause=detail.cause,
                   at=when.isoformat(timespec="milliseconds").replace("+00:00", "Z"))

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
