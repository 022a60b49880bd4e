"""The stack's view of the catalog: each catalog resource's construct, and every `Ref` resolved to
a CDK token (the AWS counterpart of `workflows.local.cloud.resolve`)."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

from workflows.definitions import catalog, naming, permissions
from workflows.definitions.catalog import Ref


class CatalogResources:
    """Filled in by the components as they create resources; read by the ones after them."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.tables: dict[str, dynamodb.Table] = {}
        self.queues: dict[str, sqs.Queue] = {}
        self.buses: dict[str, events.EventBus] = {}
        self.functions: dict[str, lambda_.Function] = {}
        self.state_machines: dict[str, sfn.StateMachine] = {}
        # Known up front: state machine ARNs are built from these names, never referenced.
        self.state_machine_names = {sm.logical_id: naming.state_machine_name(stack.stack_name, sm)
                                    for sm in catalog.STATE_MACHINES}

    # --- Ref -> token -------------------------------------------------------------------------

    def resolve(self, ref: Ref) -> str:
        kind, lid, attr = ref.kind, ref.logical_id, ref.attribute
        if kind == "function":
            fn = self._get(self.functions, ref)
            return fn.function_arn if attr == "arn" else fn.function_name
        if kind == "table":
            t = self._get(self.tables, ref)
            return t.table_arn if attr == "arn" else t.table_name
        if kind == "queue":
            q = self._get(self.queues, ref)
            return {"url": q.queue_url, "arn": q.queue_arn, "name": q.queue_name}[attr]
        if kind == "bus":
            b = self._get(self.buses, ref)
            return b.event_bus_arn if attr == "arn" else b.event_bus_name
        if kind == "state_machine":
            if lid not in self.state_machine_names:
                raise KeyError(f"no state machine {lid!r} in the catalog")
            return self.state_machine_arn(lid) if attr == "arn" else self.state_machine_names[lid]
        raise KeyError(f"cannot resolve {ref}")

    def arn(self, ref: Ref) -> str:
        """The ARN of the resource a reference names, whatever attribute the reference asks for."""
        return self.resolve(Ref(ref.kind, ref.logical_id, "arn"))

    def state_machine_arn(self, logical_id: str) -> str:
        return self.stack.format_arn(service="states", resource="stateMachine",
                                     resource_name=self.state_machine_names[logical_id],
                                     arn_format=ArnFormat.COLON_RESOURCE_NAME)

    def executions_arn(self, logical_id: str) -> str:
        """Every execution of a state machine: arn:...:execution:<name>:*"""
        return self.stack.format_arn(service="states", resource="execution",
                                     resource_name=f"{self.state_machine_names[logical_id]}:*",
                                     arn_format=ArnFormat.COLON_RESOURCE_NAME)

    def substitutions(self, sm: catalog.StateMachine) -> dict[str, str]:
        """DefinitionSubstitutions for exactly the placeholders this ASL file uses."""
        missing = sorted(sm.placeholders() - catalog.SUBSTITUTIONS.keys())
        if missing:
            raise KeyError(f"{sm.asl_file}: placeholders not declared in catalog.SUBSTITUTIONS: {missing}")
        return {key: self.resolve(catalog.SUBSTITUTIONS[key]) for key in sorted(sm.placeholders())}

    # --- ASL permission targets -> ARNs ----------------------------------------------------------

    def ref_for(self, expression: str, kind: str) -> Ref:
        """The catalog Ref an ASL expression (`${Placeholder}` with an optional suffix) stands for."""
        key, _ = permissions.split_placeholder(expression)
        if key is None:
            raise ValueError(f"{expression!r}: ASL must name {kind} resources with a ${{Placeholder}}, not a literal")
        if key not in catalog.SUBSTITUTIONS:
            raise KeyError(f"${{{key}}} is not declared in catalog.SUBSTITUTIONS")
        ref = catalog.SUBSTITUTIONS[key]
        if ref.kind != kind:
            raise ValueError(f"${{{key}}} names a {ref.kind}, used where a {kind} is expected")
        return ref

    def target_arn(self, target: permissions.Target) -> str:
        kind = target.kind
        if kind == "function":
            arn = self.arn(self.ref_for(target.expression, "function"))
            return f"{arn}:{target.qualifier}" if target.qualifier else arn
        if kind == "table":
            return self.arn(self.ref_for(target.expression, "table"))
        if kind == "table_index":
            return f"{self.arn(self.ref_for(target.expression, 'table'))}/index/{target.qualifier}"
        if kind == "queue":
            return self.arn(self.ref_for(target.expression, "queue"))
        if kind == "bus":
            return self.arn(self.ref_for(target.expression, "bus"))
        if kind == "state_machine":
            return self.arn(self.ref_for(target.expression, "state_machine"))
        if kind == "executions":
            return self.executions_arn(self.ref_for(target.expression, "state_machine").logical_id)
        if kind == "events_rule":
            return self.stack.format_arn(service="events", resource="rule", resource_name=target.expression)
        raise ValueError(f"unknown permission target {target}")

    def policy_statements(self, granted: list[permissions.Permission]) -> list[iam.PolicyStatement]:
        """One statement per set of actions that share the same resources, in a stable order."""
        by_target: dict[permissions.Target, set[str]] = {}
        for p in granted:
            by_target.setdefault(p.target, set()).add(p.action)
        grouped: dict[tuple[str, ...], list[permissions.Target]] = {}
        for target, actions in sorted(by_target.items()):
            grouped.setdefault(tuple(sorted(actions)), []).append(target)
        return [iam.PolicyStatement(actions=list(actions), resources=[self.target_arn(t) for t in targets])
                for actions, targets in sorted(grouped.items())]

    # --- what a function may call -------------------------------------------------------------

    # Step Functions actions on an execution (arn:...:execution:<machine>:*), not on the machine.
    EXECUTION_ACTIONS = frozenset({"states:DescribeExecution", "states:GetExecutionHistory", "states:StopExecution",
                                   "states:RedriveExecution"})

    def grant(self, fn: lambda_.Function, grant: catalog.Grant) -> None:
        """Exactly the catalog grant's actions on its resource (a table's named indexes included)."""
        ref = grant.resource
        if ref.kind == "table":
            table = self._get(self.tables, ref)
            if grant.index is None:
                resource = table.table_arn
            elif grant.index in {ix.name for ix in catalog.table(ref.logical_id).indexes}:
                resource = f"{table.table_arn}/index/{grant.index}"
            else:
                raise KeyError(f"{ref.logical_id} has no index {grant.index!r} in the catalog")
            fn.add_to_role_policy(iam.PolicyStatement(actions=list(grant.actions), resources=[resource]))
        elif ref.kind in ("queue", "bus") or ref.kind == "function":
            fn.add_to_role_policy(iam.PolicyStatement(actions=list(grant.actions), resources=[self.arn(ref)]))
        elif ref.kind == "state_machine":
            on_machine = [a for a in grant.actions if a not in self.EXECUTION_ACTIONS]
            on_executions = [a for a in grant.actions if a in self.EXECUTION_ACTIONS]
            if on_machine:
                fn.add_to_role_policy(iam.PolicyStatement(actions=on_machine,
                                                          resources=[self.state_machine_arn(ref.logical_id)]))
            if on_executions:
                fn.add_to_role_policy(iam.PolicyStatement(actions=on_executions,
                                                          resources=[self.executions_arn(ref.logical_id)]))
        else:
            raise KeyError(f"no grant for {ref}")

    @staticmethod
    def _get(items: dict, ref: Ref):
        try:
            return items[ref.logical_id]
        except KeyError:
            raise KeyError(f"{ref}: no {ref.kind} {ref.logical_id!r} built (is it in the catalog?)") from None
