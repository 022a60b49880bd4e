"""The local cloud's account: one region, one account id and dummy credentials for everything that
is not AWS itself (the in-process cloud, `fleet up`'s endpoint, Step Functions Local, the demo),
whatever the user's own AWS configuration says; and the names and ARNs of the fleet's resources
there. Step Functions Local's defaults are the same account and region, so one set of ARNs serves
both.

Imports nothing of the runtimes: the local cloud, the Lambda runtime and every target read it.
"""

from __future__ import annotations

import os
from typing import Any

from workflows.definitions import catalog
from workflows.definitions.catalog import Ref

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
# Dummy credentials: the local services check no signature, and a user's real keys never leave
# for an endpoint on this machine.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
SESSION_TOKEN = "testing"

STATE_MACHINE_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/fleet-state-machine"


def session() -> Any:
    """A boto3 session with the local region and the dummy credentials that reads nothing of the
    user's AWS configuration: no profile (an AWS_PROFILE naming a profile this machine lacks would
    fail every call), no config or credentials file."""
    import boto3
    import botocore.session

    core = botocore.session.Session()
    settings = core.get_component("config_store")  # set here, a None is kept (the session's own setter drops it)
    for name, value in (("profile", None), ("config_file", os.devnull), ("credentials_file", os.devnull)):
        settings.set_config_variable(name, value)
    return boto3.session.Session(aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
                                 region_name=REGION, botocore_session=core)


def environment() -> dict[str, str]:
    """The same settings as environment variables, for a process that talks to the local cloud
    (a Lambda sandbox, Step Functions Local, an `aws` CLI)."""
    return {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_SESSION_TOKEN": SESSION_TOKEN, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}


def function_arn(function: catalog.Function) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function.function_name}"


def resolve(ref: Ref) -> str:
    """A catalog reference as the local cloud (and Step Functions Local) names it."""
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


def definition(sm: catalog.StateMachine) -> str:
    """The state machine's ASL with its placeholders resolved to the local names."""
    return catalog.substitute(sm.definition(), resolve)


def claim_process_environment() -> None:
    """For a process that hosts the local cloud (`fleet up`, the demo, `fleet run --ephemeral`):
    the local account's settings in os.environ and no AWS profile, so what makes its own boto3
    session there (moto, the functions' clients) gets the local account, never the user's."""
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(key, None)
    os.environ.update(environment())
