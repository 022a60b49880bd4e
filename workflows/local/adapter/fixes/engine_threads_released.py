"""moto's engine appends every thread it starts (about six per execution) to a module list,
`TMP_THREADS`, that LocalStack joins at shutdown and moto never reads: a `fleet up` serving for
hours grew without bound. Finished threads are dropped from it as executions end."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.backend import execution_worker
from moto.stepfunctions.parser.utils import TMP_THREADS

from workflows.local.adapter.seam import Seam

THREADS_KEPT = 256  # TMP_THREADS is pruned once it holds more than this


def _pruning_finished_threads(execution_logic: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(execution_logic)
    def run(worker: Any) -> Any:
        try:
            return execution_logic(worker)
        finally:
            if len(TMP_THREADS) > THREADS_KEPT:
                TMP_THREADS[:] = [t for t in TMP_THREADS if t.is_alive()]

    return run


SEAM = Seam(__name__, "finished engine threads are not kept forever",
            corrects="moto 5.2.5 keeps every engine thread in TMP_THREADS (a leak in a long-running process)")
SEAM.wrap(execution_worker.ExecutionWorker, "_execution_logic", _pruning_finished_threads)
