"""Domain errors. Step Functions retries and catches by the exception's class name (Lambda's
`errorType`), so these names are part of the state machines' contract (statemachines/*.asl.json):
never rename one."""

from __future__ import annotations


class FleetError(Exception):
    """Base of every domain error."""


class FieldError(FleetError, ValueError):
    """A request breaks a rule. A user error: the message starts with the field at fault."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem

    def __reduce__(self) -> tuple[type[FieldError], tuple[str, str]]:  # keep the two-argument constructor picklable
        return (type(self), (self.field, self.problem))


class CarValidationError(FieldError):
    """A registration request breaks a rule. A user error: the caller gets the message back.

    The message starts with the field at fault, e.g. ``"year: must be between 2010 and 2027"``.
    """


class TransientInspectionError(FleetError):
    """The car's telemetry link failed for a moment; the inspection is safe to retry."""


class UnstorableItemError(FleetError, ValueError):
    """DynamoDB cannot store what a step was given (a key over its size limit, an item over 400 KB,
    a number outside its range, NaN): the step's input is wrong and nothing was written. Not
    retried: an operational failure (DLQ) inside a workflow, a clear error when invoked directly."""

class RideValidationError(FieldError):
    """A dispatch request breaks a rule (user error: InvalidRide, no DLQ message)."""


class MaintenanceRequestError(FieldError):
    """A maintenance request breaks a rule (user error: InvalidRequest, no DLQ message)."""


class CarNotFoundError(FleetError, LookupError):
    """A maintenance request names a car the fleet does not have (user error)."""


class TransientRoutingError(FleetError):
    """The routing service failed for a moment; planning the route is safe to retry."""


class TransientCheckError(FleetError):
    """A maintenance check's rig failed for a moment; the check is safe to retry."""


class TransientRoadTestError(FleetError):
    """The road test was interrupted (traffic, weather); safe to retry."""


class TripReportError(FleetError, ValueError):
    """A trip report that cannot be true (an odometer going backwards): an operator must look."""


class CarStateConflict(FleetError):
    """A conditional write found the car (or its ride/job) in a state this step did not expect and
    that is not this step's own earlier write: someone else changed it. Operational: DLQ."""


class RideOwnerConflict(CarStateConflict):
    """The ride is dispatched by another execution (a redrive of it, which recorded it again), so a
    late or redriven step of this one changes nothing of it, nor of the car it holds. Operational,
    as any conflict: DLQ; the ride's own execution carries on."""


class TransactionConflict(FleetError):
    """DynamoDB cancelled a transaction for a reason other than a condition (a concurrent
    transaction on the same item, throttling): safe to retry."""


class EventPublishError(FleetError):
    """EventBridge did not take a CarStatusChanged event; the step is safe to retry (the status
    write before it is idempotent and the audit consumer ignores a version it already has)."""
