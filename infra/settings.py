"""Per-deployment settings, read from CDK context (`-c key=value` or cdk.json)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Node

from workflows.definitions.naming import DEFAULT_STACK_NAME

PRODUCTION_STAGES = frozenset({"prod", "production"})


@dataclass(frozen=True)
class Settings:
    stage: str = "dev"
    stack_name: str = DEFAULT_STACK_NAME
    # API Gateway stage throttling (requests per second, burst).
    api_rate_limit: int = 50
    api_burst_limit: int = 100
    # ExecutionsFailed fires at this many failed executions in 5 minutes. User errors
    # (CarValidationError) fail an execution by design, and every operational failure already
    # alarms through the DLQ at one message, so this watches for a burst, not for one.
    failed_executions_threshold: int = 5
    # An existing SNS topic that every alarm notifies as well as the stack's own (optional).
    alarm_topic_arn: str | None = None
    # State machine logs hold each state's input and output only when asked (they may hold
    # personal data: pickups, dropoffs): `-c log_execution_data=true`.
    log_execution_data: bool = False

    def __post_init__(self) -> None:
        # The stage names the API Gateway stage; the stack name prefixes the state machine names.
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", self.stage):
            raise ValueError(f"stage {self.stage!r}: letters, digits, - and _ only")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,63}", self.stack_name):
            raise ValueError(f"stack_name {self.stack_name!r}: a letter, then letters, digits and - (at most 64)")

    @property
    def is_production(self) -> bool:
        return self.stage in PRODUCTION_STAGES

    @property
    def removal_policy(self) -> RemovalPolicy:
        """Data and logs survive `cdk destroy` in production; a dev stack leaves nothing behind."""
        return RemovalPolicy.RETAIN if self.is_production else RemovalPolicy.DESTROY

    @property
    def log_retention(self) -> logs.RetentionDays:
        return logs.RetentionDays.THREE_MONTHS if self.is_production else logs.RetentionDays.TWO_WEEKS

    @classmethod
    def from_context(cls, node: Node) -> Settings:
        def get(key: str, default):
            value = node.try_get_context(key)
            return default if value is None else value

        return cls(
            stage=str(get("stage", cls.stage)),
            stack_name=str(get("stack_name", cls.stack_name)),
            api_rate_limit=int(get("api_rate_limit", cls.api_rate_limit)),
            api_burst_limit=int(get("api_burst_limit", cls.api_burst_limit)),
            failed_executions_threshold=int(get("failed_executions_threshold", cls.failed_executions_threshold)),
            alarm_topic_arn=get("alarm_topic_arn", None) or None,
            log_execution_data=str(get("log_execution_data", "false")).lower() in ("true", "1", "yes"),
        )
