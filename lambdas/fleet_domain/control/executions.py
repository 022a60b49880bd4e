"""Starting workflow executions idempotently: shared by the REST API, the CLI and DLQ redrive.

Execution names derive from the request, `<workflow>-<business key>-<hash of the input>`, so the
same request twice maps to the same execution. Step Functions answers a repeated name with the
running execution (same input) or ExecutionAlreadyExists (closed, or different input); either
way the caller gets the first execution back and no second one starts.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

MAX_INPUT_BYTES = 256 * 1024  # Step Functions' limit on an execution's input


def execution_name(workflow: str, business_key: str, payload: dict[str, Any], salt: str = "") -> str:
    key = re.sub(r"[^A-Za-z0-9_-]", "", str(payload.get(business_key, "")) if business_key else "")[:40] or "nokey"
    digest = hashlib.sha256((json.dumps(payload, sort_keys=True) + salt).encode()).hexdigest()[:12]
    return f"{workflow}-{key}-{digest}"


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"


@dataclass(frozen=True)
class Started:
    execution_arn: str
    new: bool  # False when this request had already started it


def start_execution(sfn: Any, state_machine_arn: str, name: str, payload: dict[str, Any]) -> Started:
    try:
        response = sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload))
        return Started(response["executionArn"], new=True)
    except sfn.exceptions.ExecutionAlreadyExists:
        return Started(execution_arn(state_machine_arn, name), new=False)
