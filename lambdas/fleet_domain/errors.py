"""Domain errors. Step Functions retries and catches by the exception's class name (Lambda's
`errorType`), so these names are part of the state machines' contract: never rename one."""

from __future__ import annotations


class FleetError(Exception):
    """Base of every domain error."""


class FieldError(FleetError, ValueError):
    """A request breaks a rule. A user error: the message starts with the field at fault."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem

    def __reduce__(self):  # keep the two-argument constructor picklable
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
