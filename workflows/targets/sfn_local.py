"""The fleet's state machines on AWS Step Functions Local: created, or updated when their ASL
changed, with the local names (local/names.py) that Step Functions Local forwards to its
LAMBDA_ENDPOINT, DYNAMODB_ENDPOINT and SQS_ENDPOINT."""

from __future__ import annotations

import json
from typing import Any

from workflows.definitions import catalog


def deploy(sfn: Any, state_machines: tuple[catalog.StateMachine, ...] = catalog.STATE_MACHINES) -> list[tuple[str, str]]:
    """Create each state machine, or update it if its definition changed: [(name, what happened)].

    Definitions are substituted exactly as for the local cloud: Lambda ARNs
    arn:aws:lambda:us-east-1:123456789012:function:<name>, which Step Functions Local forwards to
    its LAMBDA_ENDPOINT, and table, queue and bus names as `fleet up` has them.
    """
    from workflows.local.cloud import STATE_MACHINE_ROLE, definition

    existing = {m["name"]: m["stateMachineArn"]
                for page in sfn.get_paginator("list_state_machines").paginate() for m in page["stateMachines"]}
    done = []
    for sm in state_machines:
        text = definition(sm)
        arn = existing.get(sm.name)
        if arn is None:
            sfn.create_state_machine(name=sm.name, definition=text, roleArn=STATE_MACHINE_ROLE, type=sm.type)
            done.append((sm.name, "created"))
        elif json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) != json.loads(text):
            sfn.update_state_machine(stateMachineArn=arn, definition=text, roleArn=STATE_MACHINE_ROLE)
            done.append((sm.name, "updated"))
        else:
            done.append((sm.name, "unchanged"))
    return done


def with_dependencies(sm: catalog.StateMachine) -> tuple[catalog.StateMachine, ...]:
    """The state machine and those it starts (its ${...StateMachineArn} placeholders), transitively."""
    found: dict[str, catalog.StateMachine] = {}
    todo = [sm]
    while todo:
        current = todo.pop()
        if current.logical_id in found:
            continue
        found[current.logical_id] = current
        for key in current.placeholders():
            ref = catalog.SUBSTITUTIONS.get(key)
            if ref is not None and ref.kind == "state_machine":
                todo.append(catalog.state_machine(ref.logical_id))
    return tuple(found.values())
