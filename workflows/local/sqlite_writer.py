"""A SQLite connection whose statements run without letting go of the GIL, for the state store's
one-statement commits (workflows/local/state_store.py).

Why: the standard sqlite3 module releases the GIL around every step of a statement. On a busy
engine a thread that lets go of the GIL waits for the switch interval (5 ms) to have it back, so
each commit a request waits for costs about 5 ms of that request's time, though SQLite's own work
(appending a page or two to the WAL, no fsync at synchronous=NORMAL) takes tens of microseconds.
Through ctypes.PyDLL (which keeps the GIL during the call) the commit costs only that work.

It prepares, binds and steps statements that return no rows, and point reads of one text (a
cold DynamoDB item read back inside a request: through the sqlite3 module, each read waited for
the GIL too). Every other read, and every multi-statement transaction, stays on the sqlite3
module's connection. The WAL is
checkpointed by that connection too (`wal_autocheckpoint=0` here): a checkpoint copies pages and
syncs, which must not be done while holding the GIL.

`open_writer` answers None where the SQLite library cannot be loaded this way; the store then
commits through the sqlite3 module as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sqlite3
from pathlib import Path
from typing import Any

_OK, _ROW, _DONE = 0, 100, 101
_OPEN_READWRITE = 0x2
_STATIC = None  # SQLite reads the bound bytes where they are (kept until the statement's reset), no copy


def _library() -> Any:
    name = ctypes.util.find_library("sqlite3")
    if name is None:
        return None
    try:
        lib = ctypes.PyDLL(name)
    except OSError:
        return None
    p, c_int, c_char_p = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    signatures: dict[str, tuple[list[Any], Any]] = {
        "sqlite3_open_v2": ([c_char_p, ctypes.POINTER(p), c_int, c_char_p], c_int),
        "sqlite3_exec": ([p, c_char_p, p, p, p], c_int),
        "sqlite3_prepare_v2": ([p, c_char_p, c_int, ctypes.POINTER(p), p], c_int),
        "sqlite3_bind_text": ([p, c_int, c_char_p, c_int, p], c_int),
        "sqlite3_bind_double": ([p, c_int, ctypes.c_double], c_int),
        "sqlite3_bind_int64": ([p, c_int, ctypes.c_int64], c_int),
        "sqlite3_bind_null": ([p, c_int], c_int),
        "sqlite3_step": ([p], c_int),
        "sqlite3_reset": ([p], c_int),
        "sqlite3_clear_bindings": ([p], c_int),
        "sqlite3_finalize": ([p], c_int),
        "sqlite3_close_v2": ([p], c_int),
        "sqlite3_errmsg": ([p], c_char_p),
        "sqlite3_column_text": ([p, c_int], c_char_p),  # copied into bytes before the reset
    }
    for function, (args, result) in signatures.items():
        getattr(lib, function).argtypes, getattr(lib, function).restype = args, result
    return lib


_lib = _library()


class Writer:
    """One connection to the database, for statements that write (one thread at a time: the
    store's lock)."""

    def __init__(self, path: Path, script: str):
        self._db = ctypes.c_void_p()
        self._statements: dict[str, ctypes.c_void_p] = {}
        if _lib.sqlite3_open_v2(str(path).encode(), ctypes.byref(self._db), _OPEN_READWRITE, None) != _OK:
            message = self._error()
            self.close()
            raise sqlite3.OperationalError(message)
        self._script("PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0; PRAGMA busy_timeout=5000;" + script)

    def execute(self, sql: str, values: list[Any]) -> None:
        self._run(sql, values, None)

    def text(self, sql: str, values: list[Any]) -> str | None:
        """The first column of the first row as text (None: no row, or NULL)."""
        found: list[bytes | None] = []
        self._run(sql, values, found)
        return found[0].decode() if found and found[0] is not None else None

    def _run(self, sql: str, values: list[Any], found: list[bytes | None] | None) -> None:
        statement = self._statements.get(sql)
        if statement is None:
            statement = ctypes.c_void_p()
            text = sql.encode()
            if _lib.sqlite3_prepare_v2(self._db, text, len(text), ctypes.byref(statement), None) != _OK:
                raise sqlite3.OperationalError(self._error())
            self._statements[sql] = statement
        held: list[bytes] = []  # the bound texts: SQLite reads them in place (SQLITE_STATIC) until the reset
        try:
            for index, value in enumerate(values, 1):
                if value is None:
                    _lib.sqlite3_bind_null(statement, index)
                elif isinstance(value, str):
                    data = value.encode()
                    held.append(data)
                    _lib.sqlite3_bind_text(statement, index, data, len(data), _STATIC)
                elif isinstance(value, float):
                    _lib.sqlite3_bind_double(statement, index, value)
                elif isinstance(value, int):
                    _lib.sqlite3_bind_int64(statement, index, value)
                else:
                    raise TypeError(f"cannot write a {type(value).__name__} to the state store")
            step = _lib.sqlite3_step(statement)
            if step not in (_ROW, _DONE):
                raise sqlite3.OperationalError(self._error())
            if step == _ROW and found is not None:
                found.append(_lib.sqlite3_column_text(statement, 0))
        finally:
            _lib.sqlite3_reset(statement)
            _lib.sqlite3_clear_bindings(statement)

    def close(self) -> None:
        for statement in self._statements.values():
            _lib.sqlite3_finalize(statement)
        self._statements.clear()
        if self._db:
            _lib.sqlite3_close_v2(self._db)
            self._db = ctypes.c_void_p()

    def _script(self, sql: str) -> None:
        if _lib.sqlite3_exec(self._db, sql.encode(), None, None, None) != _OK:
            message = self._error()
            self.close()
            raise sqlite3.OperationalError(message)

    def _error(self) -> str:
        message = _lib.sqlite3_errmsg(self._db) if self._db else None
        return message.decode(errors="replace") if message else "SQLite could not open the database"


def open_writer(path: Path, script: str) -> Writer | None:
    """A writer on the database at `path` (which the sqlite3 module has opened and set to WAL),
    running `script` first (the connection's temporary tables and triggers); None: not here."""
    return Writer(path, script) if _lib is not None else None
