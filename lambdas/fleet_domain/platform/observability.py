"""Powertools for every handler: one Logger, Tracer and Metrics (service and namespace from the
environment), and the one decorator stack each handler wears."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

logger = Logger()
# Nothing patched here: the AWS SDK, the handlers' one outbound dependency, is patched when the
# first client is made (clients.py), so a function that calls no AWS service never loads it.
tracer = Tracer(auto_patch=False)
metrics = Metrics()
# Many invocations publish no metric (GET routes, steps that only compute); Powertools warns about
# each one.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def lambda_handler(correlation_id_path: str | None = None) -> Callable[[Callable[[Any, Any], Any]], Callable[[Any, Any], Any]]:
    """Structured logs with the Lambda context (and a correlation id where the event has one),
    X-Ray tracing, and metrics flushed at the end of each invocation. No cold-start EMF metric:
    Powertools prints it even with metrics disabled, and Lambda reports Init Duration itself."""

    def decorate(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        instrumented = logger.inject_lambda_context(correlation_id_path=correlation_id_path)(
            tracer.capture_lambda_handler(metrics.log_metrics(handler)))

        @functools.wraps(instrumented)
        def invoke(event: Any, context: Any) -> Any:
            try:
                return instrumented(event, context)
            finally:
                # With metrics disabled (the local cloud, tests) Powertools never clears them and
                # prints the batch once it holds 100 values; drop them after every invocation.
                if is_metrics_disabled():
                    metrics.clear_metrics()

        return invoke

    return decorate
