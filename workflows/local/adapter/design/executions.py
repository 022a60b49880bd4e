"""Each execution's worker thread is counted while it runs, so a local cloud can wait for its
executions to end before it resets moto's (process-global) state (a straggler must never write
into the next cloud), and a caller in this process can wait for one execution's end on an event
instead of polling DescribeExecution. A stopped execution's token waits can be woken: moto
leaves them waiting out their TimeoutSeconds (an hour for a trip)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.backend import execution_worker

from workflows.local.adapter.seam import Seam

_running = threading.Condition()
_running_workers: set[Any] = set()  # the ExecutionWorkers whose thread is running
_ended: dict[str, None] = {}  # the ARNs of the latest ENDED_KEPT executions to end, oldest first
ENDED_KEPT = 10_000  # a waiter asks soon after the start; a long-running cloud must not keep them all


def _counted(execution_logic: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(execution_logic)
    def run(worker: Any) -> Any:
        with _running:
            _running_workers.add(worker)
        try:
            return execution_logic(worker)
        finally:
            with _running:
                _running_workers.discard(worker)
                _ended[worker._evaluation_details.execution_details.arn] = None
                if len(_ended) > ENDED_KEPT:
                    del _ended[next(iter(_ended))]
                _running.notify_all()

    return run


def wait_for_executions(timeout_s: float) -> bool:
    """Block until no execution worker runs (True), or the timeout passes (False)."""
    with _running:
        return _running.wait_for(lambda: not _running_workers, timeout=timeout_s)


def wait_for_execution_end(execution_arn: str, timeout_s: float) -> bool:
    """Block until this execution's worker has finished (True), or the timeout passes."""
    with _running:
        return _running.wait_for(lambda: execution_arn in _ended, timeout=timeout_s)


def interrupt_waits(execution_arn: str | None = None) -> None:
    """Wake every task that waits for a token, of one execution or of all (they have been
    stopped): stock moto leaves such a thread waiting out its TimeoutSeconds."""
    with _running:
        workers = [w for w in _running_workers
                   if execution_arn is None or w._evaluation_details.execution_details.arn == execution_arn]
    for worker in workers:
        env = getattr(worker, "env", None)
        pool = getattr(getattr(env, "callback_pool_manager", None), "_pool", {}) if env is not None else {}
        for endpoint in list(pool.values()):
            endpoint.interrupt_all()


def abandon_stragglers() -> None:
    """Forget workers that did not end in time, so the next local cloud does not wait for them."""
    with _running:
        _running_workers.clear()
        _running.notify_all()


def forget_ended() -> None:
    with _running:
        _ended.clear()


SEAM = Seam(__name__, "running executions counted: wait for one, for all, wake their token waits")
SEAM.wrap(execution_worker.ExecutionWorker, "_execution_logic", _counted)
