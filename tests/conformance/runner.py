"""Runs one recorded case on an in-process local cloud: its set-up calls, its state machines, its
executions with the recorded input; returns how each execution ended, to be compared with AWS's
recording (compare.py).

The cases' data is tests/conformance/aws_recorded_cases.json, copied from the shared measuring set
(state machine definitions, inputs, AWS's answers). A case that creates a Lambda function names its
handler file; the function it gets is the one in functions.py with that behaviour.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conformance import compare, functions
from workflows.definitions import catalog
from workflows.local.cloud import LocalCloud

CASES_FILE = Path(__file__).with_name("aws_recorded_cases.json")
ROLE_ARN = "arn:aws:iam::111111111111:role/fid-sfn-role"  # the recording's: its transformers name it
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
EXECUTION_WAIT_S = 60.0  # wall seconds an execution may take (on a virtual clock: its CPU time)


def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(CASES_FILE.read_text())["cases"]
    return cases


def runnable(case: dict[str, Any]) -> bool:
    """The recording holds what is needed to run it (some cases were recorded without their data)."""
    return "executions" in case and "state_machines" in case


@dataclass
class Outcome:
    """How a case ran: the divergences from AWS (none: it passes)."""

    case_id: str
    divergences: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.divergences


# --- the cases' Lambda functions --------------------------------------------------------------

_made: dict[str, catalog.Function] = {}


@contextmanager
def case_functions(cloud: LocalCloud) -> Iterator[None]:
    """The local Lambda runtime finds the functions cases create, besides the catalog's."""
    original = catalog.function_by_name

    def function_by_name(function_name: str) -> catalog.Function:
        try:
            return original(function_name)
        except KeyError:
            name = function_name.split(":function:")[-1].split(":")[0]
            if name in _made:
                return _made[name]
            raise

    functions.clock = cloud.clock
    catalog.function_by_name = function_by_name
    try:
        yield
    finally:
        catalog.function_by_name = original
        _made.clear()


def _create_function(kwargs: dict[str, Any]) -> None:
    stem = Path(kwargs["handler_file"]).stem
    if stem not in functions.MODULES:
        raise KeyError(f"no conformance function for the recorded handler file {kwargs['handler_file']}")
    name = kwargs["func_name"]
    # logical_id is the physical name: the runtime keys handlers and concurrency on it.
    _made[name] = catalog.Function(logical_id=name, handler=f"{functions.__name__}.{stem}.handler",
                                   description=f"conformance case function ({stem})",
                                   timeout_s=int(kwargs.get("timeout", 30)))


# --- one case ---------------------------------------------------------------------------------


class CaseRun:
    def __init__(self, case: dict[str, Any], cloud: LocalCloud):
        self.suffix = uuid.uuid4().hex[:6]
        self.case: dict[str, Any] = compare.rename_tokens(case, self.suffix)
        self.cloud = cloud
        self.subs: dict[str, str] = {}
        self.arns: dict[int, str | None] = {}
        self.create_errors: dict[int, str] = {}

    def client(self, service: str) -> Any:
        return self.cloud.client(service)

    def sync_client(self) -> Any:
        # StartSyncExecution's `sync-` host prefix is not a host here.
        config = Config(retries={"max_attempts": 0}, inject_host_prefix=False)
        return self.cloud._session.client("stepfunctions", config=config)

    def steps(self) -> list[dict[str, Any]]:
        if "steps" in self.case:
            steps: list[dict[str, Any]] = self.case["steps"]
            return steps
        return [*self.case.get("setup", []),
                *({"op": "create_state_machine", "sm": i} for i in range(len(self.case["state_machines"]))),
                *({"op": "execute", "exec": n} for n in range(len(self.case["executions"])))]

    def run(self) -> Outcome:
        outcome = Outcome(self.case["id"])
        gots: dict[int, dict[str, Any]] = {}
        for step in self.steps():
            try:
                if step["op"] == "create_state_machine" and "service" not in step:
                    self.create(step["sm"])
                elif step["op"] == "execute":
                    n = step["exec"]
                    gots[n] = self.execute(n, self.case["executions"][n])
                else:
                    self.replay(step)
            except Exception as exc:  # noqa: BLE001 - a failed set-up call is the case's divergence
                what = f"{step.get('service', 'stepfunctions')}.{step['op']}"
                outcome.divergences.append(f"setup: {what}: {type(exc).__name__}: {str(exc)[:300]}")
                return outcome
        self.forget_account_wide()
        norm = compare.Normaliser(compare.substitute(self.case.get("transformers", []), self.subs))
        n_compared = sum(1 for e in self.case["executions"] if e.get("expected"))
        for n, ex in enumerate(self.case["executions"]):
            exp, got = ex.get("expected"), gots.get(n)
            if exp is None or got is None:
                continue
            where = f"exec {n}/{n_compared}: " if n_compared > 1 else ""
            outcome.divergences += [where + d for d in compare.compare(exp, got, norm)]
        return outcome

    def forget_account_wide(self) -> None:
        """What a case leaves that the next case would list (secrets): each case was recorded on an
        account without them."""
        secrets = self.client("secretsmanager")
        for secret in secrets.list_secrets().get("SecretList", []):
            secrets.delete_secret(SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True)

    def replay(self, step: dict[str, Any]) -> None:
        """One API call the recorded test made (or a fixture it used) before an execution."""
        svc, op, kw = step["service"], step["op"], compare.substitute(step.get("kwargs", {}), self.subs)
        if (svc, op) == ("fixture", "dynamodb_create_table"):
            pk = kw["partition_key"]
            self.client("dynamodb").create_table(
                TableName=kw["table_name"], KeySchema=[{"AttributeName": pk, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": pk, "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        elif (svc, op) == ("fixture", "sqs_create_queue"):
            url = self.client("sqs").create_queue(QueueName=kw["QueueName"], Attributes=kw.get("Attributes") or {})
            self.subs[kw["url"]] = url["QueueUrl"]
        elif (svc, op) == ("fixture", "create_lambda_function"):
            _create_function(kw)
        else:
            getattr(self.client(svc if svc != "lambda_" else "lambda"), op)(**kw)

    def create(self, i: int) -> None:
        sm = self.case["state_machines"][i]
        definition = compare.substitute(sm["definition"], self.subs)
        try:
            arn = self.client("stepfunctions").create_state_machine(
                name=sm["name"], definition=definition, type=sm.get("type") or "STANDARD", roleArn=ROLE_ARN,
            )["stateMachineArn"]
        except ClientError as exc:
            self.arns[i] = None
            self.create_errors[i] = f"{exc.response['Error'].get('Code')}: {exc.response['Error'].get('Message', '')[:300]}"
            return
        self.arns[i] = arn
        # The recording's ARN for it may be in later definitions and inputs.
        self.subs[f"arn:aws:states:us-east-1:111111111111:stateMachine:{sm['name']}"] = arn

    def execute(self, n: int, ex: dict[str, Any]) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        arn = self.arns.get(ex["sm"])
        if arn is None:
            return {"status": "NOT_CREATED", "error": "CreateStateMachine refused",
                    "cause": self.create_errors.get(ex["sm"], "state machine not created")}
        arn += ex.get("qualifier") or ""
        payload = compare.substitute(ex["input"], self.subs)
        try:
            if ex["kind"] == "start_sync_execution":
                r = self.sync_client().start_sync_execution(stateMachineArn=arn, input=payload)
                return {k: r.get(k) for k in ("status", "output", "error", "cause")}
            # The recording named anonymous executions fidexec<n> (its transformers say so): same here.
            name = ex.get("name") or f"fidexec{n}r{self.suffix}"
            exec_arn = sfn.start_execution(stateMachineArn=arn, input=payload, name=name)["executionArn"]
        except ClientError as exc:
            return {"status": "API_ERROR", "error": exc.response["Error"].get("Code"),
                    "cause": exc.response["Error"].get("Message", "")[:300]}
        try:
            return self.await_execution(exec_arn)
        except ClientError as exc:
            return {"status": "API_ERROR", "error": exc.response["Error"].get("Code"),
                    "cause": f"{exc.operation_name}: {exc.response['Error'].get('Message', '')[:300]}"}

    def await_execution(self, exec_arn: str) -> dict[str, Any]:
        from workflows.local import adapter

        sfn = self.client("stepfunctions")
        adapter.wait_for_execution_end(exec_arn, EXECUTION_WAIT_S)
        describe_error = None
        try:
            desc = sfn.describe_execution(executionArn=exec_arn)
        except ClientError as exc:
            describe_error = f"{exc.response['Error'].get('Code')}: {exc.response['Error'].get('Message', '')[:200]}"
            desc = {}
        events = self.history(exec_arn)
        if describe_error is not None:
            desc = status_from_history(events)
        got: dict[str, Any] = {"status": desc.get("status", "RUNNING"), "output": desc.get("output"),
                               "error": desc.get("error"), "cause": desc.get("cause"),
                               "event_types": [e["type"] for e in events]}
        if got["status"] not in TERMINAL:
            sfn.stop_execution(executionArn=exec_arn, cause="conformance suite: still running")
        if describe_error:
            got["describe_error"] = describe_error
        return got

    def history(self, exec_arn: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": exec_arn, "maxResults": 1000}
        while True:
            page = sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                return sorted(events, key=lambda e: e["id"])
            kwargs["nextToken"] = page["nextToken"]


def status_from_history(events: list[dict[str, Any]]) -> dict[str, Any]:
    last = events[-1] if events else {}
    for key, status in (("executionSucceededEventDetails", "SUCCEEDED"), ("executionFailedEventDetails", "FAILED"),
                        ("executionTimedOutEventDetails", "TIMED_OUT"), ("executionAbortedEventDetails", "ABORTED")):
        if key in last:
            d = last[key]
            return {"status": status, "output": d.get("output"), "error": d.get("error"), "cause": d.get("cause")}
    return {"status": "RUNNING"}


def case_slug(case_id: str) -> str:
    """A short, readable pytest id for a case."""
    return re.sub(r"^.*?/test_", "", case_id).replace(".py::", "::")
