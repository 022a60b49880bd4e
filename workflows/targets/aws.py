"""Where `fleet` sends its calls: the local cloud (an endpoint URL), Step Functions Local, or a
deployed AWS stack whose names come from its CloudFormation outputs (workflows/definitions/naming.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boto3

from workflows.definitions import catalog, naming
from workflows.definitions.catalog import Ref


class TargetError(Exception):
    """The target cannot be reached or is not the fleet's stack: one line for the user."""


@dataclass
class AwsStack:
    """A deployed stack: boto3's default credentials and region, names from its outputs."""

    stack_name: str
    outputs: dict[str, str]
    session: Any

    @classmethod
    def connect(cls, stack_name: str | None = None, region: str | None = None) -> AwsStack:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

        name = stack_name or os.environ.get("FLEET_STACK") or naming.DEFAULT_STACK_NAME
        session = boto3.session.Session(region_name=region)
        try:
            stacks = session.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
        except NoCredentialsError:
            raise TargetError("no AWS credentials: configure them (aws configure, AWS_PROFILE) or use the local cloud") from None
        except NoRegionError:
            raise TargetError("no AWS region: set AWS_REGION or AWS_DEFAULT_REGION") from None
        except ClientError as exc:
            raise TargetError(f"stack {name}: {exc.response['Error'].get('Message') or exc}") from None
        except BotoCoreError as exc:
            raise TargetError(f"stack {name}: {exc}") from None
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        return cls(name, outputs, session)

    def resolve(self, ref: Ref) -> str:
        try:
            return naming.resolver_from_outputs(self.outputs)(ref)
        except KeyError as exc:
            raise TargetError(f"stack {self.stack_name} is not the fleet's stack: {exc.args[0]}") from None

    def state_machine_arn(self, sm: catalog.StateMachine) -> str:
        return self.resolve(Ref("state_machine", sm.logical_id, "arn"))

    def client(self, service: str) -> Any:
        return self.session.client(service)
