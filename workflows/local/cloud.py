"""The embedded local cloud: moto's services plus in-process Lambda, built from the catalog.

    with LocalCloud(virtual_time=True) as cloud:
        arn = cloud.start_execution("register", {...}, name="car-1HG...")
        cloud.wait(arn)

One local cloud per process at a time: moto's backends are process-global.
"""

from __future__ import annotations

import gc
import json
import threading
from pathlib import Path
from typing import Any

from botocore import UNSIGNED
from botocore.config import Config

from workflows.definitions import catalog
from workflows.definitions.catalog import Ref
from workflows.local import local_aws
from workflows.local.clock import Clock, make_clock
from workflows.local.lambda_runtime import FaultHook, LambdaRuntime
from workflows.local.local_aws import ACCOUNT_ID
from workflows.local.names import function_arn, resolve

STATE_MACHINE_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/fleet-state-machine"
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
# Why an execution that was running when the local cloud stopped (or was killed) ended ABORTED.
RESTART_CAUSE = "The local cloud restarted while this execution was running; redrive it to run it again."

_lock = threading.Lock()
_active: LocalCloud | None = None


def definition(sm: catalog.StateMachine) -> str:
    return catalog.substitute(sm.definition(), resolve)


class LocalCloud:
    def __init__(self, virtual_time: bool = False, clock: Clock | None = None, fault_hook: FaultHook | None = None,
                 mock_config: str | Path | None = None, state_dir: str | Path | None = None):
        self.clock = clock or make_clock(virtual_time)
        # Where the state is kept across restarts (workflows/local/state_store.py); None: in memory only.
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.store: Any = None
        self.restored: Any = None  # what start() read back from the state directory
        # Where `stateMachineArn#TestCase` executions find their test case (Step Functions Local's
        # MockConfigFile.json format); None: $SFN_MOCK_CONFIG, else statemachines/MockConfigFile.json.
        self.mock_config = mock_config
        self.runtime = LambdaRuntime(self.clock, fault_hook)
        self._mock: Any = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._session: Any = None
        self.telemetry: Any = None

    # --- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> LocalCloud:
        global _active
        with _lock:
            if _active is not None:
                raise RuntimeError("a local cloud is already running in this process; stop it first")
            _active = self
        # This process now hosts the functions and the engine's service integrations: their SDK
        # clients see a Lambda sandbox's environment, not the user's AWS settings.
        local_aws.isolate_process()
        from moto import mock_aws

        from workflows.local import adapter

        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        self._session = local_aws.session()  # made now: moto's mock hooks into sessions made after it starts
        adapter.install(self.runtime, self.clock, on_async_failure=self._async_failure,
                             mock_config_path=self.mock_config)
        self.deploy()
        if self.state_dir is not None:
            self._restore(self.state_dir)
        self._serve_functions_endpoint()
        # What is loaded by now (modules, moto's backends, the deployed resources) lives as long as
        # this cloud: kept out of the collector's full passes, which scanned all of it each time
        # (3-8% of a registration's CPU in A/B runs, more under concurrency). Given back at stop.
        gc.freeze()
        return self

    def _serve_functions_endpoint(self) -> None:
        """The AWS endpoint the functions' execution environments call (their AWS_ENDPOINT_URL);
        their logs and metrics written to CloudWatch here, as Lambda writes them."""
        from workflows.local.environments import functions_endpoint_url
        from workflows.local.function_telemetry import FunctionTelemetry

        self.runtime.endpoint_url = functions_endpoint_url()
        self.telemetry = FunctionTelemetry(self.client, self.runtime.in_flight)
        self.runtime.observers.append(self.telemetry.observe)

    def stop(self) -> None:
        global _active
        if self._mock is not None:
            # Executions still running are stopped, and their threads waited for, before the
            # backends are reset: a straggler must not write into the next local cloud.
            from workflows.local import adapter

            # Nothing from here on is kept: what still runs is ended ABORTED by the next start,
            # once the whole local cloud is there to release what it held.
            store, self.store = self.store, None
            self.runtime.functions.on_change = None
            if store is not None:
                from workflows.local.adapter.design import durable_state

                durable_state.attach(None)
            self._stop_running_executions()
            adapter.interrupt_waits()
            if not adapter.wait_for_executions(timeout_s=10):
                adapter.abandon_stragglers()
            adapter.forget_ended()
            self.runtime.shutdown()  # no function runs (or calls the endpoint) from here on
            if self.telemetry is not None:
                self.telemetry.stop()
            if store is not None:
                store.close()
            self._mock.stop()
            self._mock = None
        self.runtime.shutdown()
        gc.unfreeze()
        with _lock:
            if _active is self:
                _active = None

    def _restore(self, state_dir: Path) -> None:
        from workflows.local.adapter.design import durable_state
        from workflows.local.local_aws import REGION
        from workflows.local.state_store import StateStore

        self.store = store = StateStore(state_dir)
        self.restored = durable_state.restore(store, ACCOUNT_ID, REGION, RESTART_CAUSE, self.client, self.runtime.functions)
        # Functions created with the Lambda API from now on are kept too (the replay above was not).
        self.runtime.functions.on_change = lambda operation, params: store.write_definition("lambda", operation, params)

    # --- resources ------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        c = self._clients.get(service)
        if c is None:
            with self._clients_lock:  # a botocore session does not create clients thread-safely
                c = self._clients.get(service)
                if c is None:
                    # In-process, unsigned: moto does not check signatures, and signing is a tenth of the CPU of a call.
                    c = self._session.client(service, config=Config(retries={"max_attempts": 0}, signature_version=UNSIGNED))
                    self._clients[service] = c
        return c

    def deploy(self) -> None:
        ddb = self.client("dynamodb")
        for t in catalog.TABLES:
            keys = [t.partition_key] + ([t.sort_key] if t.sort_key else [])
            for ix in t.indexes:
                keys += [ix.partition_key] + ([ix.sort_key] if ix.sort_key else [])
            attrs = [{"AttributeName": k, "AttributeType": t.key_type(k)} for k in dict.fromkeys(keys)]
            args: dict[str, Any] = {
                "TableName": t.table_name,
                "KeySchema": _key_schema(t.partition_key, t.sort_key),
                "AttributeDefinitions": attrs,
                "BillingMode": "PAY_PER_REQUEST",
            }
            if t.indexes:
                args["GlobalSecondaryIndexes"] = [
                    {"IndexName": ix.name, "KeySchema": _key_schema(ix.partition_key, ix.sort_key),
                     "Projection": {"ProjectionType": "ALL"}}
                    for ix in t.indexes
                ]
            ddb.create_table(**args)
        sqs = self.client("sqs")
        for q in catalog.QUEUES:
            sqs.create_queue(QueueName=q.queue_name,
                             Attributes={"MessageRetentionPeriod": str(q.retention_days * 86400)})
        events = self.client("events")
        for bus in catalog.BUSES:
            events.create_event_bus(Name=bus.bus_name)
            for consumer in bus.consumers:
                rule = f"{bus.bus_name}-to-{catalog.function(consumer).function_name}"
                events.put_rule(Name=rule, EventBusName=bus.bus_name,
                                EventPattern=json.dumps({"source": [bus.source]}))
                events.put_targets(Rule=rule, EventBusName=bus.bus_name,
                                   Targets=[{"Id": consumer, "Arn": function_arn(catalog.function(consumer))}])
        # Step Functions' Execution Status Change events arrive on the default bus, as on AWS.
        for status_rule in catalog.EXECUTION_STATUS_RULES:
            pattern = status_rule.pattern(lambda sm: resolve(Ref("state_machine", sm, "arn")))
            events.put_rule(Name=status_rule.rule_name, EventPattern=json.dumps(pattern))
            events.put_targets(Rule=status_rule.rule_name, Targets=[
                {"Id": status_rule.function, "Arn": function_arn(catalog.function(status_rule.function))}])
        sfn = self.client("stepfunctions")
        for sm in catalog.STATE_MACHINES:
            sfn.create_state_machine(name=sm.name, definition=definition(sm), roleArn=STATE_MACHINE_ROLE, type=sm.type)

    def replay_failed_events(self) -> int:
        """Re-deliver what the event consumers' on-failure queue holds (what an operator does once
        the cause is fixed); a message is deleted only after its consumer took it. Returns how
        many were delivered."""
        sqs = self.client("sqs")
        url = resolve(Ref("queue", "CarEventFailures", "url"))
        delivered = 0
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
            if not messages:
                return delivered
            for m in messages:
                record = json.loads(m["Body"])
                result = self.runtime.invoke(record["requestContext"]["functionArn"], json.dumps(record["requestPayload"]))
                if result.function_error or result.error_code:
                    continue  # stays in the queue, visible again after its timeout
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                delivered += 1

    def _async_failure(self, record: dict) -> None:
        url = resolve(Ref("queue", "CarEventFailures", "url"))
        self.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(record, default=str))

    def _stop_running_executions(self) -> None:
        sfn = self.client("stepfunctions")
        try:
            for sm in catalog.STATE_MACHINES:
                arn = resolve(Ref("state_machine", sm.logical_id, "arn"))
                for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn, statusFilter="RUNNING"):
                    for ex in page["executions"]:
                        sfn.stop_execution(executionArn=ex["executionArn"], cause="local cloud stopped")
        except Exception:  # noqa: BLE001 - best effort at shutdown; the backends are reset anyway
            pass

    # --- executions -----------------------------------------------------------------------

    def state_machine_arn(self, workflow: str) -> str:
        return resolve(Ref("state_machine", catalog.workflow(workflow).logical_id, "arn"))

    def start_execution(self, workflow: str, payload: dict, name: str) -> str:
        from fleet_domain.control.executions import start_execution

        return start_execution(self.client("stepfunctions"), self.state_machine_arn(workflow), name, payload).execution_arn

    def wait(self, execution_arn: str, timeout_s: float = 30.0) -> dict:
        """Wait for the execution's end (on an event: no polling), then describe it."""
        from workflows.local import adapter
        from workflows.targets.stepfunctions import wait_for_execution

        adapter.wait_for_execution_end(execution_arn, timeout_s)
        return wait_for_execution(self.client("stepfunctions"), execution_arn, timeout_s)


def _key_schema(partition_key: str, sort_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition_key, "KeyType": "HASH"}]
    if sort_key:
        schema.append({"AttributeName": sort_key, "KeyType": "RANGE"})
    return schema
