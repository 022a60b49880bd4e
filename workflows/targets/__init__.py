"""Where commands send their calls: one Target (in-process, `fleet up`'s endpoint, Step Functions
Local, a deployed AWS stack) that hands out clients and resolves names; the local account's
settings; and starting, waiting for and describing executions on any target."""

from workflows.targets.target import (
    TARGETS,
    AwsTarget,
    EndpointTarget,
    InProcessTarget,
    NotThere,
    StepFunctionsLocalTarget,
    Target,
    TargetError,
    ValueRefused,
    explain,
)

__all__ = ["TARGETS", "AwsTarget", "EndpointTarget", "InProcessTarget", "NotThere", "StepFunctionsLocalTarget",
           "Target", "TargetError", "ValueRefused", "explain"]
