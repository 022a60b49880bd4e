"""StartExecution without a name runs under a generated one (a UUID), as on AWS. moto names such
an execution `None` (its ARN ends in `:None`), so a second unnamed start of the same machine
collides with the first."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser import models as parser_models

from workflows.local.adapter.seam import Seam


def _named(start_execution: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(start_execution)
    def start(backend: Any, state_machine_arn: str, name: Any = None, execution_input: Any = None,
              trace_header: Any = None) -> Any:
        return start_execution(backend, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    return start


SEAM = Seam(__name__, "an unnamed execution gets a UUID for its name",
            corrects="moto 5.2.5 names an execution started without a name `None`")
SEAM.wrap(parser_models.StepFunctionsParserBackend, "start_execution", _named)
