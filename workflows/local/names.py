"""How the local cloud names what the catalog declares: the ARN, name or URL each `${Placeholder}`
resolves to in the local account and region (local_aws.py). Read by the local cloud, its Lambda
runtime (the functions' environment) and the CLI."""

from __future__ import annotations

from workflows.definitions import catalog
from workflows.definitions.catalog import Function, Ref
from workflows.local.local_aws import ACCOUNT_ID, REGION


def function_arn(function: Function) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function.function_name}"


def resolve(ref: Ref) -> str:
    """A catalog reference as the local cloud names it (moto's account and region)."""
    if ref.kind == "function":
        f = catalog.function(ref.logical_id)
        return function_arn(f) if ref.attribute == "arn" else f.function_name
    if ref.kind == "table":
        t = catalog.table(ref.logical_id)
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{t.table_name}" if ref.attribute == "arn" else t.table_name
    if ref.kind == "queue":
        q = next(q for q in catalog.QUEUES if q.logical_id == ref.logical_id)
        if ref.attribute == "url":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{q.queue_name}"
        return f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{q.queue_name}" if ref.attribute == "arn" else q.queue_name
    if ref.kind == "bus":
        b = next(b for b in catalog.BUSES if b.logical_id == ref.logical_id)
        return f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/{b.bus_name}" if ref.attribute == "arn" else b.bus_name
    if ref.kind == "state_machine":
        sm = catalog.state_machine(ref.logical_id)
        return f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{sm.name}" if ref.attribute == "arn" else sm.name
    raise KeyError(f"cannot resolve {ref}")
