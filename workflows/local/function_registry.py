"""Functions created the AWS way (CreateFunction with a Python zip) next to the catalog's.

The catalog's functions run the project's code (lambdas/); a created function runs its zip,
unpacked into a folder of its own, in execution environments like any other. Any Python runtime
name AWS accepts is taken and runs on this machine's interpreter; the function's log says so
on each cold start. UpdateFunctionCode unpacks the new zip into a new folder: environments of the
old code are not reused (the pool's key includes the folder).
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workflows.definitions import catalog
from workflows.definitions.catalog import Function

# The Python runtimes Lambda accepts in CreateFunction (deprecated ones included: AWS still
# takes an update of an existing one; here they all run on this interpreter).
PYTHON_RUNTIMES = ("python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14")
MAX_ZIP_BYTES = 50 * 1024 * 1024  # Lambda's limit on a zip uploaded directly
LOCAL_INTERPRETER = f"python{sys.version_info.major}.{sys.version_info.minor}"


class FunctionApiError(Exception):
    """A refused Lambda API call: the AWS error code, its HTTP status and a one-line message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class CodeFunction(Function):
    """A function created through the Lambda API: its own name, runtime name and code folder."""

    name: str = ""
    runtime: str = LOCAL_INTERPRETER
    role: str = ""
    code_dir: str = ""
    code_sha256: str = ""
    code_size: int = 0
    last_modified: str = ""
    variables: dict[str, str] = field(default_factory=dict)

    @property
    def function_name(self) -> str:
        return self.name


def runtime_of(function: Function) -> str:
    return function.runtime if isinstance(function, CodeFunction) else "python3.11"


def code_dir_of(function: Function) -> str:
    return function.code_dir if isinstance(function, CodeFunction) else str(catalog.LAMBDAS_DIR)


# Told each change once it is made, before it is answered: (CreateFunction | UpdateFunctionCode |
# DeleteFunction, the request's parameters), which `replay` applies again (a state store keeps them).
ChangeListener = Callable[[str, dict[str, Any]], None]


class FunctionRegistry:
    def __init__(self) -> None:
        self._functions: dict[str, CodeFunction] = {}
        self._lock = threading.Lock()
        self._root = Path(tempfile.mkdtemp(prefix="fleet-lambda-code-"))
        self.on_change: ChangeListener | None = None

    def replay(self, operation: str, params: dict[str, Any]) -> None:
        """A change told to `on_change` made again (FunctionApiError if it no longer applies)."""
        if operation == "CreateFunction":
            self.create(params)
        elif operation == "UpdateFunctionCode":
            self.update_code(params["FunctionName"], params)
        elif operation == "DeleteFunction":
            self.delete(params["FunctionName"])

    def _told(self, operation: str, params: dict[str, Any]) -> None:
        if self.on_change is not None:
            self.on_change(operation, params)

    def get(self, name: str) -> CodeFunction | None:
        return self._functions.get(_short(name))

    def all(self) -> list[CodeFunction]:
        with self._lock:
            return list(self._functions.values())

    def create(self, request: dict[str, Any]) -> CodeFunction:
        name = _required(request, "FunctionName")
        if request.get("PackageType", "Zip") != "Zip":
            raise FunctionApiError(400, "InvalidParameterValueException", "only Zip packages run locally (PackageType Image does not)")
        runtime = _required(request, "Runtime")
        if runtime not in PYTHON_RUNTIMES:
            raise FunctionApiError(400, "InvalidParameterValueException",
                                   f"runtime {runtime!r} does not run here: only Python ({', '.join(PYTHON_RUNTIMES)})")
        handler = _required(request, "Handler")
        if "." not in handler:
            raise FunctionApiError(400, "InvalidParameterValueException", f"handler {handler!r} is not module.function")
        code = request.get("Code") or {}
        with self._lock:
            if name in self._functions or _is_catalog(name):
                raise FunctionApiError(409, "ResourceConflictException", f"Function already exist: {name}")
            folder, sha, size = self._unpack(name, code)
            variables = {str(k): str(v) for k, v in ((request.get("Environment") or {}).get("Variables") or {}).items()}
            function = CodeFunction(
                logical_id=name, handler=handler, description=str(request.get("Description", "")),
                timeout_s=_bounded(request.get("Timeout", 3), 1, 900, "Timeout"),
                memory_mb=_bounded(request.get("MemorySize", 128), 128, 10240, "MemorySize"),
                environment=variables, name=name, runtime=runtime, role=str(request.get("Role", "")),
                code_dir=str(folder), code_sha256=sha, code_size=size, last_modified=_now(), variables=variables)
            self._functions[name] = function
            self._told("CreateFunction", request)
            return function

    def update_code(self, name: str, request: dict[str, Any]) -> CodeFunction:
        with self._lock:
            function = self._existing(name)
            folder, sha, size = self._unpack(function.name, request)
            old = function.code_dir
            updated = replace(function, code_dir=str(folder), code_sha256=sha, code_size=size, last_modified=_now())
            self._functions[function.name] = updated
            self._told("UpdateFunctionCode", {**request, "FunctionName": function.name})
        shutil.rmtree(old, ignore_errors=True)
        return updated

    def delete(self, name: str) -> CodeFunction:
        with self._lock:
            function = self._existing(name)
            del self._functions[function.name]
            self._told("DeleteFunction", {"FunctionName": function.name})
        shutil.rmtree(function.code_dir, ignore_errors=True)
        return function

    def close(self) -> None:
        shutil.rmtree(self._root, ignore_errors=True)

    def _existing(self, name: str) -> CodeFunction:
        function = self._functions.get(_short(name))
        if function is None:
            if _is_catalog(name):
                raise FunctionApiError(400, "InvalidParameterValueException",
                                       f"{_short(name)} is one of the fleet's own functions: its code is lambdas/ in the project")
            raise FunctionApiError(404, "ResourceNotFoundException", f"Function not found: {name}")
        return function

    def _unpack(self, name: str, code: dict[str, Any]) -> tuple[Path, str, int]:
        blob = code.get("ZipFile")
        if not blob:
            raise FunctionApiError(400, "InvalidParameterValueException",
                                   "give the code as ZipFile (S3 and image locations are not read locally)")
        try:
            data = base64.b64decode(blob, validate=True) if isinstance(blob, str) else bytes(blob)
        except ValueError:
            raise FunctionApiError(400, "InvalidParameterValueException", "ZipFile is not base64") from None
        if len(data) > MAX_ZIP_BYTES:
            raise FunctionApiError(413, "RequestEntityTooLargeException", f"the zip is over {MAX_ZIP_BYTES} bytes")
        folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self._root))
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                archive.extractall(folder)  # extractall keeps every member inside the folder
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise FunctionApiError(400, "InvalidParameterValueException",
                                   f"Could not unzip uploaded file: {exc}") from None
        return folder, base64.b64encode(hashlib.sha256(data).digest()).decode(), len(data)


def _short(name: str) -> str:
    return name.split(":function:")[-1].split(":")[0]


def _is_catalog(name: str) -> bool:
    try:
        catalog.function_by_name(name)
    except KeyError:
        return False
    return True


def _required(request: dict[str, Any], key: str) -> str:
    value = request.get(key)
    if not isinstance(value, str) or not value:
        raise FunctionApiError(400, "InvalidParameterValueException", f"{key} is required")
    return value


def _bounded(value: Any, low: int, high: int, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise FunctionApiError(400, "InvalidParameterValueException", f"{key} must be a whole number from {low} to {high}")
    return value


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
