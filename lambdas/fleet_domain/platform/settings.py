"""The functions' environment as one typed object: the table names, queue, bus and state machine
ARNs the catalog gives each function (workflows/definitions/catalog.py), read by pydantic-settings
(CARS_TABLE -> cars_table, ...) instead of os.environ lookups spread over the code. A function
that is not given a variable has None there; asking for it with `required` is a one-line error."""

from __future__ import annotations

import os

from pydantic_settings import BaseSettings, SettingsConfigDict

from fleet_domain.models.base import DomainModel


class Settings(BaseSettings, DomainModel):
    # A DomainModel too, like every model of the package: its schema is built on first use.
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    cars_table: str | None = None
    rides_table: str | None = None
    maintenance_jobs_table: str | None = None
    car_history_table: str | None = None
    idempotency_table: str | None = None
    failures_table: str | None = None
    fleet_bus_name: str | None = None
    dlq_url: str | None = None
    register_car_state_machine_arn: str | None = None
    dispatch_car_state_machine_arn: str | None = None
    maintain_car_state_machine_arn: str | None = None

    def required(self, name: str, purpose: str = "") -> str:
        """The variable `name` (a field name), or LookupError naming the variable."""
        value = getattr(self, name)
        if not value:
            raise LookupError(f"{name.upper()} is not set{': ' + purpose if purpose else ''}")
        return str(value)

    def workflow_of(self, state_machine_arn: str) -> str | None:
        """Which fleet workflow a state machine ARN is (by the ARNs this function is given)."""
        for workflow, arn in (("register", self.register_car_state_machine_arn),
                              ("dispatch", self.dispatch_car_state_machine_arn),
                              ("maintenance", self.maintain_car_state_machine_arn)):
            if arn and arn == state_machine_arn:
                return workflow
        return None

    def table(self, logical: str) -> str:
        """A table's name by its logical name in snake case: table("car_history") -> CAR_HISTORY_TABLE."""
        return self.required(f"{logical}_table")


_VARIABLES = tuple(name.upper() for name in Settings.model_fields)
_current: tuple[tuple[str | None, ...], Settings] | None = None


def settings() -> Settings:
    """The function's settings. A Lambda's environment is fixed for the life of its sandbox, but
    the local cloud's in-process runtime and the tests set it after import: the object is built
    again only when one of its variables changed (a few dict lookups per call, not a parse)."""
    global _current
    seen = tuple(os.environ.get(name) for name in _VARIABLES)
    current = _current
    if current is None or current[0] != seen:
        current = _current = (seen, Settings())
    return current[1]
