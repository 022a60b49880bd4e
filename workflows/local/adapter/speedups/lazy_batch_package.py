"""moto's Step Functions engine imports `moto.batch.utils` for one enum (its Batch integration),
and `moto/batch/__init__.py` imports Batch's backend, which imports EC2's: 0.8 s of every process
that starts a local cloud, for a service the workflows never call. `moto.batch` is registered as
its package without running its __init__, so the submodule loads alone; the first use of anything
else in `moto.batch` runs the __init__ then. Must run before the engine is imported (the adapter
package does it first)."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import moto

from workflows.local.adapter.seam import Seam, speedups_enabled

_DEFERRED = "__deferred_by_fleet__"


def defer_batch_package() -> None:
    if "moto.batch" in sys.modules or not speedups_enabled():
        return
    spec = importlib.util.find_spec("moto.batch")
    if spec is None or spec.loader is None:
        return
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def load_on_first_use(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        delattr(package, "__getattr__")
        loader.exec_module(package)
        return getattr(package, name)

    setattr(package, "__getattr__", load_on_first_use)  # noqa: B010 - a module's __getattr__ (PEP 562)
    setattr(package, _DEFERRED, True)
    sys.modules["moto.batch"] = package
    setattr(moto, "batch", package)  # noqa: B010 - moto's package attribute, as an import would set it


def _deferred() -> bool:
    return bool(getattr(sys.modules.get("moto.batch"), _DEFERRED, False))


SEAM = Seam(__name__, "moto.batch's backends load on first use, not with the engine", installed_when=_deferred)
