"""The base of every model, and the constrained types the models share."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


def _iso_timestamp(v: str) -> str:
    datetime.fromisoformat(v)  # raises ValueError when it is not one
    return v


def unicode_text(v: str) -> str:
    """Text that UTF-8 can carry (a lone surrogate cannot be stored, published or logged)."""
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return v


Text = AfterValidator(unicode_text)

#: An ISO 8601 timestamp, as Step Functions writes it (e.g. 2026-11-24T18:00:00.123Z). Checked when
#: an event is parsed, so a step refuses a bad one before it writes anything.
Timestamp = Annotated[str, Field(strict=True, max_length=64), AfterValidator(_iso_timestamp)]
#: An id that is (part of) a DynamoDB key: never empty, well inside DynamoDB's 2048-byte key limit.
Key = Annotated[str, Field(strict=True, min_length=1, max_length=256), Text]
#: A car's version: a whole number DynamoDB and JSON both hold exactly.
Version = Annotated[int, Field(ge=1, le=2**53 - 1)]
#: An execution's ARN (Step Functions' own limit is 2048 characters).
ExecutionArn = Annotated[str, Field(strict=True, max_length=2048), Text]
#: A `.waitForTaskToken` task's token (SendTaskSuccess takes at most 2048 characters).
TaskToken = Annotated[str, Field(strict=True, min_length=1, max_length=2048), Text]
#: A state's name (at most 80 characters in Step Functions) and an error's name, as a failure path passes them.
StateName = Annotated[str, Field(strict=True, min_length=1, max_length=256), Text]
ErrorName = Annotated[str, Field(strict=True, min_length=1, max_length=1024), Text]


def plain_numbers(value: Any) -> Any:
    """DynamoDB's Decimal -> int when whole, float otherwise (recursively)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain_numbers(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [plain_numbers(v) for v in value]
    return value


class DomainModel(BaseModel):
    """Every model of the domain. Its schema is built on first use, not at import: a handler
    imports modules that define dozens of models and validates two or three of them, and building
    them all was a third of its cold start. (Pydantic rebuilds under a lock, so concurrent first
    uses in the local cloud's one process are safe.)"""

    model_config = ConfigDict(defer_build=True)


class StoredModel(DomainModel):
    """A model that is also read back from DynamoDB."""

    @model_validator(mode="before")
    @classmethod
    def _from_dynamodb(cls, data: Any) -> Any:
        return plain_numbers(data)
