"""The local cloud's durable state: one SQLite database in a directory (`fleet up --state-dir`).

What it keeps: every DynamoDB item, every SQS message, and every Step Functions execution with its
history. The engine adapter writes through to it (adapter/design/durable_state.py) before a
request is answered, so what a client saw acknowledged is on disk: SQLite in WAL mode commits to
the operating system's file (a `kill -9` of the process loses nothing committed; only a crash of
the machine itself could lose the last commits, as `synchronous=NORMAL` does not sync each one).

Why SQLite rather than moto's own facilities: moto keeps its state in Python objects and offers a
whole-state dump (`/moto-api/` state manager, pickling backends) but no write-through: a snapshot
taken every N seconds loses the last N seconds on `kill -9` and costs time proportional to all the
state, not to what changed. SQLite is in the standard library, commits one small row per change,
survives a killed process by construction (WAL), and lets ended executions and their histories
live on disk instead of the Python heap, read back only when asked for.

This module knows SQL and JSON only; what moto's objects look like is the adapter's business.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflows.local import sqlite_writer

SCHEMA_VERSION = 1
DATABASE = "state.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    table_name TEXT NOT NULL, item_key TEXT NOT NULL, item TEXT NOT NULL,
    PRIMARY KEY (table_name, item_key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    queue TEXT NOT NULL, message_id TEXT NOT NULL, seq INTEGER NOT NULL, message TEXT NOT NULL,
    PRIMARY KEY (queue, message_id));
CREATE TABLE IF NOT EXISTS executions (
    arn TEXT PRIMARY KEY, state_machine_arn TEXT NOT NULL, name TEXT NOT NULL, sm_type TEXT NOT NULL,
    status TEXT NOT NULL, start_date REAL NOT NULL, stop_date REAL, input TEXT NOT NULL,
    output TEXT, error TEXT, cause TEXT, history TEXT);
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (state_machine_arn, start_date);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status);
CREATE TABLE IF NOT EXISTS definitions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, service TEXT NOT NULL, operation TEXT NOT NULL, params TEXT NOT NULL);
"""


class StateStoreError(RuntimeError):
    """The state directory cannot be used (not writable, another version's database, ...)."""


@dataclass(frozen=True)
class ExecutionRecord:
    """One execution as kept: DescribeExecution's fields, dates in epoch seconds."""

    arn: str
    state_machine_arn: str
    name: str
    sm_type: str
    status: str
    start_date: float
    stop_date: float | None
    input: str
    output: str | None = None
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True)
class Retention:
    """How many ended executions are kept, and for how long (AWS keeps them 90 days)."""

    max_executions: int = 10_000
    max_age_s: float = 90 * 86400.0


class StateStore:
    """One SQLite database; thread-safe (one connection behind a lock: writes are short)."""

    def __init__(self, directory: str | Path, retention: Retention | None = None):
        self.directory = Path(directory)
        self.retention = retention or Retention()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._lock_file = _lock_directory(self.directory)
            self._db = sqlite3.connect(self.directory / DATABASE, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            version = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if version is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(version[0]) != SCHEMA_VERSION:
                raise StateStoreError(f"state directory {self.directory} holds schema {version[0]}, "
                                      f"this version reads {SCHEMA_VERSION}: choose another --state-dir")
            self._db.executescript(_WRITES)
            self._writer = sqlite_writer.open_writer(self.directory / DATABASE, _WRITES)
            # Reads of items go through their own connection: WAL lets them run beside a commit.
            self._reader = sqlite3.connect(self.directory / DATABASE, check_same_thread=False, isolation_level=None)
            self._reader.execute("PRAGMA query_only=1")
            self._item_reader = sqlite_writer.open_writer(self.directory / DATABASE, "PRAGMA query_only=1;")
        except (OSError, sqlite3.Error) as exc:
            raise StateStoreError(f"cannot use state directory {self.directory}: {exc}") from None
        self._lock = threading.Lock()  # the connection's
        self._queue_lock = threading.Lock()
        self._queue: list[Pending] = []  # writes waiting for the next commit
        self._read_lock = threading.Lock()  # the reader's
        self._submitted = 0  # writes queued so far: each Pending's sequence number
        self._committed = 0  # every write up to this sequence number is committed
        self._first_failed: int | None = None  # the first write of the first batch that failed to commit
        self._ended_since_prune = 0
        self._since_checkpoint = 0

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.close()
            with self._read_lock:
                self._reader.close()
                if self._item_reader is not None:
                    self._item_reader.close()
            self._db.close()
            self._lock_file.close()  # the directory's lock goes with it

    # --- DynamoDB items -------------------------------------------------------------------

    def write_items(self, changes: Iterable[tuple[str, str, str | None]]) -> None:
        """(table, key as canonical JSON, item as JSON or None for deleted), in one commit."""
        pending = self.submit_items(changes)
        if pending is not None:
            self.settle(pending)

    def submit_items(self, changes: Iterable[tuple[str, str, str | None]]) -> Pending | None:
        """write_items in two steps: queued now, in the order of the calls (a caller holding a
        lock queues in that lock's order), committed by `settle` (the caller's, or a later
        writer's group commit), so the lock need not be held while SQLite commits."""
        rows = list(changes)
        if not rows:
            return None
        return self._submit(Pending(None, items=rows))

    def items(self) -> Iterator[tuple[str, str, str]]:
        """(table, key JSON, item JSON) of every kept item."""
        with self._lock:
            rows = self._db.execute("SELECT table_name, item_key, item FROM items ORDER BY table_name").fetchall()
        yield from rows

    def item_keys(self) -> list[tuple[str, str]]:
        """(table, key JSON) of every kept item: what a start needs, without the items."""
        with self._lock:
            return self._db.execute("SELECT table_name, item_key FROM items ORDER BY table_name").fetchall()

    def forget_table(self, table: str) -> None:
        """A deleted table's items, gone (a table made again under its name starts empty)."""
        self._commit(lambda db: db.execute("DELETE FROM items WHERE table_name=?", (table,)))

    def item(self, table: str, key: str) -> str | None:
        """One kept item's JSON (None: not kept), as committed. Read inside a request, while other
        threads wait for the GIL: through the writer's binding, which keeps it (sqlite_writer)."""
        with self._read_lock:
            if self._item_reader is not None:
                return self._item_reader.text(_ITEM, [table, key])
            row = self._reader.execute(_ITEM, (table, key)).fetchone()
        return None if row is None else row[0]

    def submitted(self) -> int:
        """The sequence number of the last write queued."""
        return self._submitted

    def committed(self) -> int:
        """Every write queued up to this sequence number is in the store as it was queued (one
        that failed to commit, and all after it, never count)."""
        if self._first_failed is None:
            return self._committed
        return min(self._committed, self._first_failed - 1)

    # --- SQS messages ---------------------------------------------------------------------

    def write_messages(self, queue: str, added: Iterable[tuple[str, int, str]], removed: Iterable[str]) -> None:
        """Messages sent to a queue ((id, order, message JSON)) and gone from it (ids), in one commit."""
        pending = self.submit_messages(queue, added, removed)
        if pending is not None:
            self.settle(pending)

    def submit_messages(self, queue: str, added: Iterable[tuple[str, int, str]], removed: Iterable[str]) -> Pending | None:
        """write_messages queued now, committed by `settle` (as submit_items)."""
        added, removed = list(added), list(removed)
        if not added and not removed:
            return None
        return self._submit(Pending(None, messages=[(queue, mid, (seq, message)) for mid, seq, message in added]
                                    + [(queue, mid, None) for mid in removed]))

    def messages(self) -> Iterator[tuple[str, str, str]]:
        """(queue, message id, message JSON) in the order they were sent."""
        with self._lock:
            rows = self._db.execute("SELECT queue, message_id, message FROM messages ORDER BY queue, seq").fetchall()
        yield from rows

    # --- resources a client defined (tables, queues, state machines, rules) ----------------

    def write_definition(self, service: str, operation: str, params: dict[str, Any]) -> None:
        """A request that defined, changed or deleted a resource, answered with success: replayed
        in order by the next start (the resources the local cloud deploys itself are not kept)."""
        text = json.dumps(params, separators=(",", ":"))
        self._commit(lambda db: db.execute("INSERT INTO definitions (service, operation, params) VALUES (?, ?, ?)",
                                           (service, operation, text)))

    def definitions(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(service, operation, parameters) in the order they were answered."""
        with self._lock:
            rows = self._db.execute("SELECT service, operation, params FROM definitions ORDER BY seq").fetchall()
        return [(service, operation, json.loads(params)) for service, operation, params in rows]

    # --- executions -----------------------------------------------------------------------

    def write_execution(self, record: ExecutionRecord, history: list[dict[str, Any]] | None = None) -> list[str]:
        """An execution started or ended (with its history once it ended). Returns the ARNs of
        ended executions the retention forgot meanwhile (checked every 100 ends)."""
        ended = record.status != "RUNNING"
        events = None if history is None else json.dumps(history, separators=(",", ":"), default=_encode)  # unlocked
        row = (record.arn, record.state_machine_arn, record.name, record.sm_type, record.status, record.start_date,
               record.stop_date, record.input, record.output, record.error, record.cause, events)
        forgotten: list[str] | None = self.settle(self._submit(Pending(None, executions=[(row, ended)])))
        return forgotten or []

    def execution(self, arn: str) -> ExecutionRecord | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM executions WHERE arn=?", (arn,)).fetchone()
        return None if row is None else ExecutionRecord(*row)

    def executions(self, status: str | None = None) -> list[ExecutionRecord]:
        """Kept executions (of one status), oldest first."""
        query = f"SELECT {_RECORD_COLUMNS} FROM executions"
        args: tuple[str, ...] = ()
        if status is not None:
            query, args = query + " WHERE status=?", (status,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY start_date", args).fetchall()
        return [ExecutionRecord(*row) for row in rows]

    def history(self, arn: str) -> list[dict[str, Any]] | None:
        """An ended execution's history events (None: not kept)."""
        with self._lock:
            row = self._db.execute("SELECT history FROM executions WHERE arn=?", (arn,)).fetchone()
        if row is None or row[0] is None:
            return None
        events: list[dict[str, Any]] = json.loads(row[0], object_hook=_decode)
        return events

    def prune(self) -> list[str]:
        """Apply the retention now: the ARNs of the ended executions forgotten."""
        with self._lock, self._transaction():
            return self._prune()

    def _prune(self) -> list[str]:
        cutoff = time.time() - self.retention.max_age_s
        gone = [row[0] for row in self._db.execute(
            "SELECT arn FROM executions WHERE status != 'RUNNING' AND (stop_date < ? OR arn IN ("
            " SELECT arn FROM executions WHERE status != 'RUNNING' ORDER BY stop_date DESC LIMIT -1 OFFSET ?))",
            (cutoff, self.retention.max_executions))]
        self._db.executemany("DELETE FROM executions WHERE arn=?", [(arn,) for arn in gone])
        return gone

    # --- plumbing -------------------------------------------------------------------------

    def _commit(self, work: Any) -> Any:
        """Run `work(connection)` in a committed transaction; returns once it is committed."""
        return self.settle(self.submit(work))

    def submit(self, work: Any) -> Pending:
        """Queue `work(connection)` for the next commit, in call order."""
        return self._submit(Pending(work))

    def _submit(self, pending: Pending) -> Pending:
        with self._queue_lock:
            self._submitted += 1
            pending.seq = self._submitted
            self._queue.append(pending)
        return pending

    def settle(self, pending: Pending) -> Any:
        """Return once `pending` is committed (its result), or raise why it was not. Writes from
        many threads share commits: whoever holds the connection commits every write queued by
        then, in order (group commit), so a burst costs a few commits, not one each."""
        with self._lock:
            if not pending.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                try:
                    rows = _Rows()
                    ending = None
                    for entry in batch:
                        rows.add(entry)
                        if any(ended for _, ended in entry.executions):
                            ending = entry
                    self._ended_since_prune += rows.ends
                    prune = ending is not None and self._ended_since_prune >= 100  # the retention, every 100 ends
                    if len(rows.keyed) <= _ROWS_PER_STATEMENT and not prune and all(e.work is None for e in batch):
                        rows.write(self._writer or self._db)  # one statement: a transaction of its own
                        self._since_checkpoint += 1
                        if self._writer is not None and self._since_checkpoint >= _COMMITS_PER_CHECKPOINT:
                            self._since_checkpoint = 0
                            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # the writer does not
                    else:
                        with self._transaction():
                            for entry in batch:
                                if entry.work is not None:
                                    entry.result = entry.work(self._db)
                            rows.write(self._db)
                            if prune:
                                self._ended_since_prune = 0
                                ending.result = self._prune()  # type: ignore[union-attr]
                except (sqlite3.Error, ValueError, TypeError) as exc:  # rolled back: each of its writers hears why
                    if self._first_failed is None and batch:
                        self._first_failed = batch[0].seq
                    for entry in batch:
                        entry.error = exc
                else:
                    if batch:
                        self._committed = batch[-1].seq
                finally:
                    for entry in batch:
                        entry.done = True
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


_ITEM = "SELECT item FROM items WHERE table_name=? AND item_key=?"
_RECORD_COLUMNS = "arn, state_machine_arn, name, sm_type, status, start_date, stop_date, input, output, error, cause"


def _lock_directory(directory: Path) -> Any:
    """One local cloud per state directory: a second would write the same rows from another state."""
    import fcntl
    import os

    handle = open(directory / "lock", "a+")  # noqa: SIM115 - held open as long as the store
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise StateStoreError(f"state directory {directory} is in use by {holder}: stop it, or choose "
                              "another --state-dir") from None
    handle.truncate(0)
    handle.write(f"process {os.getpid()}")
    handle.flush()
    return handle


class Pending:
    """A write queued for the next commit: work(connection), or rows of items, messages and
    executions (the batch writes those with one statement: see _Rows)."""

    def __init__(self, work: Any, items: list[tuple[str, str, str | None]] | None = None,
                 messages: list[tuple[str, str, tuple[int, str] | None]] | None = None,
                 executions: list[tuple[tuple[Any, ...], bool]] | None = None):
        self.work = work
        self.items = items or []  # (table, key, item JSON or None: deleted)
        self.messages = messages or []  # (queue, message id, (order, message JSON) or None: gone)
        self.executions = executions or []  # (executions row, whether it is an end)
        self.seq = 0  # its place in the order of writes (set when queued)
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None


_ROWS_PER_STATEMENT = 200
_COMMITS_PER_CHECKPOINT = 256  # a few pages each: the WAL stays a few MB


class _Rows:
    """A batch's rows of items, messages and executions, each key's last write, written as one
    INSERT into `writes`, whose triggers put each row where it belongs: one statement is one
    hand-over of the GIL and back (sqlite3 releases it around each step), where a transaction of
    a statement per table took four, each a wait for the switch interval on a busy engine."""

    def __init__(self) -> None:
        self.keyed: dict[tuple[str, ...], tuple[Any, ...]] = {}
        self.ends = 0

    def add(self, entry: Pending) -> None:
        for table, key, item in entry.items:
            self.keyed[("item", table, key)] = ("item", table, key, item)
        for queue, mid, held in entry.messages:
            self.keyed[("message", queue, mid)] = ("message", queue, mid, *(held or (None, None)))
        for row, ended in entry.executions:
            self.keyed[("execution", row[0])] = ("execution", *row)
            self.ends += ended

    def write(self, db: sqlite3.Connection | sqlite_writer.Writer) -> None:
        rows = list(self.keyed.values())
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[start:start + _ROWS_PER_STATEMENT]
            size = 1 << (len(chunk) - 1).bit_length()  # a few statement texts, each prepared once
            values = [value for row in chunk for value in (*row, *([None] * (_WRITE_COLUMNS - len(row))))]
            db.execute(f"INSERT INTO writes VALUES {', '.join([_WRITE_ROW] * size)}",
                       values + [None] * (_WRITE_COLUMNS * (size - len(chunk))))


_WRITE_COLUMNS = 13  # kind, and an execution row's twelve columns
_WRITE_ROW = "(" + ", ".join(["?"] * _WRITE_COLUMNS) + ")"
# A row inserted into `writes` is written to its table by a trigger and never kept (RAISE(IGNORE));
# an item or message row whose value is NULL deletes it; a row of kind NULL pads a statement.
_WRITES = """
CREATE TEMP TABLE IF NOT EXISTS writes (kind TEXT, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12);
CREATE TEMP TRIGGER IF NOT EXISTS write_item BEFORE INSERT ON writes WHEN NEW.kind = 'item' BEGIN
    DELETE FROM items WHERE NEW.c3 IS NULL AND table_name = NEW.c1 AND item_key = NEW.c2;
    INSERT OR REPLACE INTO items SELECT NEW.c1, NEW.c2, NEW.c3 WHERE NEW.c3 IS NOT NULL;
    SELECT RAISE(IGNORE); END;
CREATE TEMP TRIGGER IF NOT EXISTS write_message BEFORE INSERT ON writes WHEN NEW.kind = 'message' BEGIN
    DELETE FROM messages WHERE NEW.c4 IS NULL AND queue = NEW.c1 AND message_id = NEW.c2;
    INSERT OR REPLACE INTO messages SELECT NEW.c1, NEW.c2, NEW.c3, NEW.c4 WHERE NEW.c4 IS NOT NULL;
    SELECT RAISE(IGNORE); END;
CREATE TEMP TRIGGER IF NOT EXISTS write_execution BEFORE INSERT ON writes WHEN NEW.kind = 'execution' BEGIN
    INSERT OR REPLACE INTO executions VALUES (NEW.c1, NEW.c2, NEW.c3, NEW.c4, NEW.c5, NEW.c6, NEW.c7, NEW.c8,
                                              NEW.c9, NEW.c10, NEW.c11, NEW.c12);
    SELECT RAISE(IGNORE); END;
CREATE TEMP TRIGGER IF NOT EXISTS write_nothing BEFORE INSERT ON writes WHEN NEW.kind IS NULL BEGIN
    SELECT RAISE(IGNORE); END;
"""


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _encode(value: Any) -> Any:
    """History events hold datetimes (timestamps) and, for binary payloads, bytes."""
    from datetime import datetime

    if isinstance(value, datetime):
        return {"__datetime__": value.timestamp()}
    if isinstance(value, bytes):
        import base64

        return {"__bytes__": base64.b64encode(value).decode()}
    raise TypeError(f"cannot keep a {type(value).__name__} in the state store")


def _decode(value: dict[str, Any]) -> Any:
    if "__datetime__" in value and len(value) == 1:
        from datetime import UTC, datetime

        return datetime.fromtimestamp(value["__datetime__"], tz=UTC)
    if "__bytes__" in value and len(value) == 1:
        import base64

        return base64.b64decode(value["__bytes__"])
    return value


def dumps(value: Any) -> str:
    """JSON for the store, datetimes and bytes included."""
    return json.dumps(value, separators=(",", ":"), default=_encode)


def loads(text: str) -> Any:
    return json.loads(text, object_hook=_decode)
