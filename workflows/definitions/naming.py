"""Names shared by the stack and its readers. Plain Python (no CDK import), so the CLI
(`fleet --target aws`) can use it to read the stack's outputs without CDK installed.

- A state machine's physical name is `<stack name>-<LogicalId>`: known before synthesis, so an
  ARN can be built from it without a CloudFormation reference (no circular dependency when a
  workflow starts itself or a sibling), and two stacks never collide.
- Every catalog reference has a stack output. Where the catalog already has a `${Placeholder}`
  for the reference, the output has the same name (`DlqUrl`, `CarsTableName`,
  `RegisterCarStateMachineArn`, ...); other references are `<LogicalId><Kind><Attribute>`
  (`ValidateCarFunctionName`, `CarEventFailuresQueueUrl`, ...).
"""

from __future__ import annotations

import re

from workflows.definitions import catalog
from workflows.definitions.catalog import Ref

DEFAULT_STACK_NAME = "CarFleet"
API_URL_OUTPUT = "ApiUrl"
API_ID_OUTPUT = "ApiId"
STAGE_OUTPUT = "Stage"

_KIND_WORD = {"function": "Function", "table": "Table", "queue": "Queue", "bus": "Bus", "state_machine": "StateMachine"}
_STATE_MACHINE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def state_machine_name(stack_name: str, sm: catalog.StateMachine) -> str:
    name = f"{stack_name}-{sm.logical_id}"
    if not _STATE_MACHINE_NAME.match(name):
        raise ValueError(f"state machine name {name!r} is not valid (letters, digits, - and _, at most 80)")
    return name


def output_key(ref: Ref) -> str:
    """The stack output that holds this reference's value."""
    for key, candidate in catalog.SUBSTITUTIONS.items():
        if candidate == ref:
            return key
    return f"{ref.logical_id}{_KIND_WORD[ref.kind]}{ref.attribute.capitalize()}"


def output_refs() -> list[Ref]:
    """Every reference the stack publishes as an output: what a client needs to drive it."""
    refs: list[Ref] = []
    refs += [Ref("function", f.logical_id, a) for f in catalog.FUNCTIONS for a in ("name", "arn")]
    refs += [Ref("table", t.logical_id, "name") for t in catalog.TABLES]
    refs += [Ref("queue", q.logical_id, "url") for q in catalog.QUEUES]
    refs += [Ref("bus", b.logical_id, "name") for b in catalog.BUSES]
    refs += [Ref("state_machine", s.logical_id, "arn") for s in catalog.STATE_MACHINES]
    refs += [r for r in catalog.SUBSTITUTIONS.values() if r not in refs]
    return refs


def resolver_from_outputs(outputs: dict[str, str]):
    """`resolve(ref)` for a deployed stack, from its CloudFormation outputs
    (`describe_stacks(...)["Stacks"][0]["Outputs"]` as {OutputKey: OutputValue})."""

    def resolve(ref: Ref) -> str:
        try:
            return outputs[output_key(ref)]
        except KeyError:
            raise KeyError(f"the stack has no output {output_key(ref)!r} for {ref}") from None

    return resolve
