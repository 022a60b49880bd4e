"""What a seam is: a named set of attribute replacements in moto, installed together.

A seam's name is its module's path under the adapter package, so the name says its purpose:
`design.*` (what the local cloud needs: its Lambda runtime, its clock, its waits), `fixes.*`
(where moto answers differently from AWS, each pinned to the moto version it was checked on and
naming the behaviour it corrects, so it could go upstream), `speedups.*` (the same answers,
cheaper; switched off with FLEET_ENGINE_SPEEDUPS=0).

A replacement names an attribute that must exist: if an upgrade moves it, installing fails
loudly with the seam's name instead of silently doing nothing.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

MOTO_VERSION = "5.2.5"
PACKAGE = __name__.rsplit(".", 1)[0]
SPEEDUPS_VARIABLE = "FLEET_ENGINE_SPEEDUPS"


class Purpose(enum.Enum):
    DESIGN = "design"
    FIXES = "fixes"
    SPEEDUPS = "speedups"


def speedups_enabled() -> bool:
    """FLEET_ENGINE_SPEEDUPS=0 runs moto's own (slower) code paths: the seams' answers must not change."""
    return os.environ.get(SPEEDUPS_VARIABLE, "1") != "0"


class SeamMoved(RuntimeError):
    """moto no longer has what a seam replaces: re-check the seam against the new version."""


_ABSENT = object()


@dataclass
class _Patch:
    owner: Any
    attribute: str
    make: Callable[[Any], Any]  # the current value -> its replacement
    before: Any = _ABSENT
    installed: Any = _ABSENT
    inherited: bool = False  # the owner class had it from a base class, not in its own namespace
    adds: bool = False  # an attribute moto does not have (an operation it does not implement)


class Seam:
    """Declared at import by one module of the adapter; installed by `adapter.install()`."""

    def __init__(self, module: str, why: str, corrects: str | None = None, moto_version: str = MOTO_VERSION,
                 installed_when: Callable[[], bool] | None = None):
        self.name = module.removeprefix(PACKAGE + ".")
        self.purpose = Purpose(self.name.split(".", 1)[0])
        self.why = why
        # Fixes only: moto's behaviour this corrects, and the version it was seen in.
        self.corrects = corrects
        self.moto_version = moto_version
        if (self.purpose is Purpose.FIXES) != (corrects is not None):
            raise ValueError(f"{self.name}: a fix (and only a fix) names the moto behaviour it corrects")
        self._installed_when = installed_when
        self._patches: list[_Patch] = []
        SEAMS.append(self)

    # --- declaring ------------------------------------------------------------------------

    def replace(self, owner: Any, attribute: str, value: Any) -> None:
        """owner.attribute becomes value."""
        self._patches.append(_Patch(owner, attribute, lambda _current: value))

    def add(self, owner: Any, attribute: str, value: Any) -> None:
        """owner.attribute, which moto does not have, becomes value (an operation moto does not
        implement): if an upgrade brings its own, installing fails loudly, to re-check the seam."""
        self._patches.append(_Patch(owner, attribute, lambda _current: value, adds=True))

    def wrap(self, owner: Any, attribute: str, wrapper: Callable[[Any], Any]) -> None:
        """owner.attribute becomes wrapper(what it is when the seam is installed): a seam installed
        later may wrap what an earlier one installed (a speed-up around a fix)."""
        self._patches.append(_Patch(owner, attribute, wrapper))

    # --- installing -----------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self.purpose is not Purpose.SPEEDUPS or speedups_enabled()

    def install(self) -> None:
        """All or nothing: a seam with a replacement whose attribute is gone installs none."""
        for patch in self._patches:
            if patch.adds and patch.installed is _ABSENT and _raw(patch.owner, patch.attribute) is not _ABSENT:
                raise SeamMoved(f"seam {self.name}: moto now has its own {_label(patch)}; re-check the seam")
            if not patch.adds and _raw(patch.owner, patch.attribute) is _ABSENT:
                raise SeamMoved(f"seam {self.name}: moto {MOTO_VERSION}'s {_label(patch)} is gone; re-check the seam")
        for patch in self._patches:
            if patch.installed is not _ABSENT:
                continue
            current = _raw(patch.owner, patch.attribute)
            patch.before = current
            patch.inherited = isinstance(patch.owner, type) and patch.attribute not in vars(patch.owner)
            patch.installed = patch.make(current)
            setattr(patch.owner, patch.attribute, patch.installed)

    def remove(self) -> None:
        for patch in reversed(self._patches):
            if patch.installed is _ABSENT:
                continue
            if _raw(patch.owner, patch.attribute) is not patch.installed:
                raise RuntimeError(f"seam {self.name}: {_label(patch)} was replaced again since; remove that first")
            if patch.inherited or patch.adds:
                delattr(patch.owner, patch.attribute)
            else:
                setattr(patch.owner, patch.attribute, patch.before)
            patch.before = patch.installed = _ABSENT

    @contextmanager
    def removed(self) -> Iterator[None]:
        """moto's own behaviour for a while (a test comparing the seam's answer with moto's)."""
        was_installed = any(p.installed is not _ABSENT for p in self._patches)
        self.remove()
        try:
            yield
        finally:
            if was_installed:
                self.install()

    def installed(self) -> bool:
        """Every replacement is in place (itself, or wrapped by a later seam's)."""
        if self._installed_when is not None:
            return self._installed_when()
        return bool(self._patches) and all(
            p.installed is not _ABSENT and _wraps(_raw(p.owner, p.attribute), p.installed) for p in self._patches)

    def original(self, owner: Any, attribute: str) -> Any:
        """What owner.attribute was before this seam replaced it."""
        patch = next(p for p in self._patches if p.owner is owner and p.attribute == attribute)
        return patch.before

    def patched(self) -> list[str]:
        return [_label(p) for p in self._patches]


SEAMS: list[Seam] = []


def _raw(owner: Any, attribute: str) -> Any:
    """The attribute as stored (a class's staticmethod itself, not the function it hands out)."""
    if isinstance(owner, type):
        for klass in owner.__mro__:
            if attribute in vars(klass):
                return vars(klass)[attribute]
        return _ABSENT
    return getattr(owner, attribute, _ABSENT)


def _wraps(value: Any, target: Any) -> bool:
    seen = 0
    while value is not None and seen < 16:
        if value is target:
            return True
        value, seen = getattr(value, "__wrapped__", None), seen + 1
    return False


def _label(patch: _Patch) -> str:
    owner = patch.owner
    name = owner.__name__ if isinstance(owner, type | type(os)) else type(owner).__name__
    module = getattr(owner, "__module__", None) if isinstance(owner, type) else None
    return f"{module + '.' if module else ''}{name}.{patch.attribute}"
