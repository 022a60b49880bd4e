"""Every JSONPath the engine evaluates was parsed anew by jsonpath_ng (a new PLY parser each time:
about half the engine's CPU on the register path); parsed paths are kept (ResultPath's too, which
parses with jsonpath_ng's own parse). A parsed path is read-only, so sharing it is safe."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.utils import json_path

from workflows.local.adapter.seam import Seam


def _kept(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    return functools.lru_cache(maxsize=4096)(parse)


SEAM = Seam(__name__, "parsed JSONPaths kept")
SEAM.wrap(json_path, "parse", _kept)
SEAM.wrap(result_path, "parse", _kept)
