"""The one place that reaches into moto's internals (DESIGN.md principle 5), pinned to moto 5.2.5.

moto's Step Functions engine (ported from LocalStack) is used as it is; the adapter changes it
through named seams (seam.py), one module each, laid out by purpose:

design/     what the local cloud needs from the engine
  service_clients             the integrations' clients: Lambda in process, the rest on moto
  clock                       Wait states, retry backoff, task timeouts, heartbeats, timestamps and
                              execution dates on the local clock
  executions                  running executions counted: wait for one or all, wake token waits
  eventbridge_lambda_targets  EventBridge rules deliver to Lambda targets (async invoke)
  mock_test_cases             StartExecution on `arn#TestCase` runs a MockConfigFile.json case
  table_faults                injected DynamoDB throughput faults per table
  aws_front_door              AWS's front-door rules (aws_rules.py) on every Step Functions, SQS,
                              DynamoDB and EventBridge request
  durable_state               items, messages and executions written through to the state store
  dynamodb_writes             the items each DynamoDB request wrote, told to what derives from them
  compact_items               a table's items not used lately held as bytes, not as moto's objects
  telemetry_retention         CloudWatch Logs events and metric data bounded per log group and per metric
  jsonata                     JSONata fields and variable reads evaluated by jsonata-python (moto
                              has no evaluator), failing with AWS's States.QueryEvaluationError
fixes/      where moto 5.2.5 answers differently from AWS; each names the behaviour it corrects,
            written so it could go upstream
  assign_string_escapes           a string assigned in Assign is unescaped as JSON
  aws_sdk_error_names             aws-sdk errors named as AWS's SDK names the service (S3.NoSuchBucket...)
  cancelled_task_ends_quietly     a task cancelled mid-run ends quietly, not with States.Runtime
  context_start_time_text         $$.Execution.StartTime is ISO 8601 text
  dynamodb_request_isolation      DynamoDB requests on one table one at a time: conditional writes atomic
  early_token_answer              a token answered before its heartbeat wait starts is kept
  engine_threads_released         finished engine threads are not kept forever
  eventbridge_event_delivered_whole  a target without an input transformer gets the whole event
  execution_name_generated        an unnamed execution gets a UUID, not `None`
  execution_output_json_text      DescribeExecution answers a string output as JSON text
  execution_status_change_events  Standard executions publish Execution Status Change events
  heartbeat_timeout_error_name    a lost heartbeat is States.HeartbeatTimeout
  history_event_limit             an execution fails at AWS's 25,000 history events (States.Runtime)
  history_include_execution_data  GetExecutionHistory honours includeExecutionData=false
  jsonata_failure_causes          a non-array Map input, a bad JSONata Timestamp: AWS's error and cause
  integration_result_metadata     lambda:invoke, dynamodb, sqs, states results carry SdkHttpMetadata
  integration_result_timestamps   timestamps in integration results are JSON numbers
  mocked_dynamodb_error_name      a mocked DynamoDB task error keeps its name
  model_instances_untracked       model instances are not kept for moto's dashboard (a leak)
  redrive_execution               RedriveExecution resumes a failed execution; $$.Execution.RedriveCount
  sfn_start_execution_parameters  states:startExecution takes the ASL's PascalCase fields
  start_sync_execution            StartSyncExecution runs an EXPRESS machine and answers its result
  states_errors_cross_map_and_parallel  a States.* error leaving a Map/Parallel keeps its name
  state_machine_type              an EXPRESS machine's executions are EXPRESS
  stop_execution                  StopExecution keeps error and cause, ends token waits
  token_answer_while_starting     a token answered while an execution is starting is answered, not a 500
speedups/   the same answers, cheaper; FLEET_ENGINE_SPEEDUPS=0 leaves every one out (CI runs
            the workflow tests once that way: `make test-engine-plain`)
  lazy_batch_package, service_client_cache, parsed_program_cache, path_parse_cache,
  response_method_names_cache, answers_as_json, transaction_rollback_by_item, dynamodb_query_by_partition,
  update_expression_cache, json_copies, backend_lookup, request_routes, item_size_checked_once

Each module's docstring says why. `tests/workflows/test_moto_adapter.py` fails loudly if an
upgrade moves a seam (installing one whose attribute is gone raises SeamMoved).
"""

from __future__ import annotations

from workflows.local.adapter.speedups.lazy_batch_package import defer_batch_package

defer_batch_package()  # first: the seam modules below import moto's engine

import importlib
import logging
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import moto

from workflows.local.adapter.bindings import bound
from workflows.local.adapter.design.executions import (
    abandon_stragglers,
    forget_ended,
    interrupt_waits,
    wait_for_execution_end,
    wait_for_executions,
)
from workflows.local.adapter.seam import MOTO_VERSION, SEAMS, Purpose, Seam
from workflows.local.adapter.speedups.request_routes import forget_routes
from workflows.local.adapter.speedups.service_client_cache import forget_clients

if TYPE_CHECKING:
    from workflows.local.clock import Clock
    from workflows.local.lambda_runtime import LambdaRuntime

__all__ = ["MOTO_VERSION", "SEAMS", "Purpose", "Seam", "abandon_stragglers", "forget_ended", "install", "interrupt_waits",
           "seams", "wait_for_execution_end", "wait_for_executions"]


def _declare_seams() -> None:
    """Import every seam module: a module of design/, fixes/ or speedups/ is a seam, declared when
    imported; they install in that order (design, fixes, speed-ups: a speed-up may wrap a fix)."""
    for purpose in Purpose:
        package = importlib.import_module(f"{__name__}.{purpose.value}")
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
    SEAMS.sort(key=lambda seam: list(Purpose).index(seam.purpose))


_declare_seams()


def install(runtime: LambdaRuntime, clock: Clock, on_async_failure: Callable[[dict[str, Any]], None] | None = None,
            mock_config_path: str | Path | None = None) -> None:
    """Point moto's engine at this runtime and clock. Idempotent; later calls rebind.
    `mock_config_path`: the MockConfigFile.json test cases come from (default: $SFN_MOCK_CONFIG,
    else statemachines/MockConfigFile.json); read at each StartExecution that names a test case."""
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"workflows.local.adapter is written against moto {MOTO_VERSION}, found {moto.__version__}: "
            "re-check the seams it lists and update MOTO_VERSION"
        )
    bound.bind(runtime, clock, on_async_failure, mock_config_path)
    forget_clients()
    forget_routes()
    # The engine logs every caught task failure at ERROR; here those are expected paths.
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    for seam in SEAMS:
        if seam.enabled:
            seam.install()


def seams() -> dict[str, bool]:
    """Each seam this process should have in place (speed-ups only when enabled) -> whether it is."""
    return {seam.name: seam.installed() for seam in SEAMS if seam.enabled}
