"""moto lists a response class's methods (inspect.getmembers) on every request; a class's
methods do not change while it serves, so the list is kept per class."""

from __future__ import annotations

import functools

from moto.core import responses as moto_responses

from workflows.local.adapter.seam import Seam

SEAM = Seam(__name__, "a response class's method list kept")
SEAM.wrap(moto_responses, "method_names_from_class", functools.lru_cache(maxsize=None))
