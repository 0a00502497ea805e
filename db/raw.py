"""Hot statements, run on the DBAPI cursor of the transaction's connection.

SQLAlchemy builds an execution context, a result and its metadata for every
statement: on this project's machines about 28 µs each, against about 3 µs for
the same statement on the driver's cursor (sqlite3, psycopg). The paths apps
call most (a completion, a first-time plan) run a dozen statements each, so
that overhead was a large share of their time.

`Raw` keeps the statement a Core construct, defined once on the tables, and
compiles it once per dialect: the SQL text, the order of its parameters, and
the column types' own bind and result processors, taken from SQLAlchemy
(`TypeEngine.dialect_impl(...).bind_processor` / `.result_processor`). So the
values written and read are exactly those a Core `execute` would write and
read. It runs in the session's transaction, on its connection.

Not for statements with expanding (IN) or literal-rendered parameters, which
SQLAlchemy fills in per execution: `Raw` refuses them when it compiles.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, cast

import psycopg
from sqlalchemy import (
    ARRAY,
    BindParameter,
    ColumnElement,
    Dialect,
    String,
    any_,
    bindparam,
    func,
    select,
    tuple_,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session

Processor = Callable[[Any], Any]


# A parameter the caller must give (the statement carries no value for it).
_REQUIRED: Any = object()


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # Positional paramstyle (qmark, SQLite's): parameters go as a list in the
    # order of `steps`; named (pyformat, psycopg's): as a dict.
    positional: bool
    # Each parameter: its name, its type's bind processor, and the value the
    # statement carries (a literal made a parameter, such as a function's
    # constant argument; overridable by the caller's) or _REQUIRED.
    steps: tuple[tuple[str, Processor | None, Any], ...]
    results: tuple[Processor | None, ...]

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        processed = []
        for name, process, default in self.steps:
            value = values.get(name, default)
            if value is _REQUIRED:
                raise KeyError(f"missing parameter {name!r}")
            processed.append(value if process is None else process(value))
        if self.positional:
            return processed
        return {step[0]: value for step, value in zip(self.steps, processed, strict=True)}

    def rows(self, found: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        if not any(self.results):  # nothing to convert
            return [tuple(row) for row in found]
        return [self.row(row) for row in found]

    def rows_at_once(self) -> _RowsAtOnce | None:
        """The statement's form for many rows of parameters at once, if it
        has one (`_RowsAtOnce`): for psycopg's named parameters only, so
        never on SQLite (positional)."""
        return None if self.positional else _rows_at_once(self.sql)

    def row(self, found: Sequence[Any]) -> tuple[Any, ...]:
        if not self.results:  # a textual statement: its values as the driver gives them
            return tuple(found)
        return tuple(
            value if process is None or value is None else process(value)
            for process, value in zip(self.results, found, strict=True)
        )


# PostgreSQL takes at most 65,535 parameters a statement.
MAX_PARAMETERS_AT_ONCE = 30_000
_NAMED = re.compile(r"%\((\w+)\)s")
_FROM = re.compile(r"\sFROM\s")


@dataclass(frozen=True, slots=True)
class _RowsAtOnce:
    """A statement for one row of named parameters, as one statement for many
    rows, with PostgreSQL's own numbered parameters (`$1`, `$2`, ...):

    - `INSERT ... VALUES (row) [ON CONFLICT DO NOTHING]` as
      `INSERT ... VALUES (row 1), (row 2), ...`;
    - a `SELECT` of values without FROM (`pg_notify(...)`) as one `SELECT` a
      row, joined by `UNION ALL`.

    In a pipeline psycopg's executemany sends every row as a statement of its
    own, flushing and polling the socket for each (letting go of the GIL and
    taking it back each time), and reads a result for each. Numbered
    parameters go through psycopg's `RawCursor` as they are: its `%s` form is
    parsed again on every call past 50 parameters."""

    head: str  # the text before the first row
    row: tuple[str, ...]  # a row's text, cut where its parameters go
    joint: str  # between two rows
    tail: str  # after the last row
    names: tuple[str, ...]  # the row's parameters, in the order they go in
    most_rows: int  # a statement's rows at most
    _texts: dict[int, str] = field(default_factory=dict)

    def sql(self, rows: int) -> str:
        """The statement for `rows` rows, built once for each number of rows."""
        found = self._texts.get(rows)
        if found is None:
            width = len(self.names)
            found = self.head + self.joint.join(
                _numbered(self.row, after=row * width) for row in range(rows)
            )
            found = self._texts[rows] = found + self.tail
        return found

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        names = self.names
        return [row[name] for row in rows for name in names]


def _numbered(parts: tuple[str, ...], *, after: int) -> str:
    """`parts` joined by `$after+1`, `$after+2`, ..."""
    text = [parts[0]]
    for number, part in enumerate(parts[1:], start=after + 1):
        text += (f"${number}", part)
    return "".join(text)


@lru_cache(maxsize=256)
def _rows_at_once(sql: str) -> _RowsAtOnce | None:
    """`sql`'s form for many rows at once (`_RowsAtOnce`), if it has one. Not
    for an upsert: `ON CONFLICT ... DO UPDATE` may not touch a row twice in one
    statement, as it may in two. Nor for a text with a quoted literal, which
    is not parsed here."""
    if "'" in sql or "%%" in sql or " RETURNING " in sql:
        return None
    if sql.startswith("INSERT INTO ") and " DO UPDATE " not in sql:
        found = sql.find(" VALUES (")
        start = found + len(" VALUES ")  # where the row's parenthesis opens
        end = None if found < 0 else _closing(sql, start)
        if end is None:
            return None
        head, row, joint, tail = sql[:start], sql[start : end + 1], ", ", sql[end + 1 :]
    elif sql.startswith("SELECT ") and _FROM.search(sql) is None:
        head, row, joint, tail = "", sql, " UNION ALL ", ""
    else:
        return None
    names = tuple(_NAMED.findall(row))
    if not names or _NAMED.search(head + tail):
        return None
    return _RowsAtOnce(
        head=head,
        row=tuple(_NAMED.split(row)[::2]),
        joint=joint,
        tail=tail,
        names=names,
        most_rows=max(1, MAX_PARAMETERS_AT_ONCE // len(names)),
    )


def _closing(sql: str, opening: int) -> int | None:
    """Where the parenthesis that opens at `opening` closes."""
    depth = 0
    for at in range(opening, len(sql)):
        if sql[at] == "(":
            depth += 1
        elif sql[at] == ")":
            depth -= 1
            if depth == 0:
                return at
    return None


def _run_at_once(
    dialect: Dialect, driver: Any, at_once: _RowsAtOnce, parameters: list[Any]
) -> None:
    """Rows of parameters run as few statements (`_RowsAtOnce`)."""
    cursor = psycopg.RawCursor(driver)
    try:
        for first in range(0, len(parameters), at_once.most_rows):
            rows = parameters[first : first + at_once.most_rows]
            sql = at_once.sql(len(rows))
            with _wrapped(dialect, sql, driver, cursor):
                cursor.execute(sql, at_once.parameters(rows))
    finally:
        cursor.close()


class Raw:
    """A Core statement compiled once per dialect, run on the driver's cursor.

    `sqlite_indexed_by` maps a table the statement reads to the index SQLite
    must read it through (SQLite's INDEXED BY, which SQLAlchemy does not
    render): for a covering index its planner passes over in favour of a
    unique one. A missing index is then an error, not a slow query."""

    __slots__ = ("_compiled", "sqlite_indexed_by", "statement")

    def __init__(
        self, statement: ClauseElement, *, sqlite_indexed_by: Mapping[str, str] | None = None
    ) -> None:
        self.statement = statement
        self.sqlite_indexed_by = dict(sqlite_indexed_by or {})
        self._compiled: dict[str, _Compiled] = {}

    def all(
        self, session: Session, values: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Every row, as tuples of the selected columns' values."""
        compiled, found = self._execute(session, values, _fetchall)
        return compiled.rows(found)

    def first(
        self, session: Session, values: Mapping[str, Any] | None = None
    ) -> tuple[Any, ...] | None:
        """The first row, or None."""
        compiled, found = self._execute(session, values, _fetchone)
        return None if found is None else compiled.row(found)

    def run(self, session: Session, values: Mapping[str, Any] | None = None) -> int:
        """Run a statement that returns no rows; the rows it touched."""
        _compiled, count = self._execute(session, values, _rowcount)
        return int(count)

    def send(self, session: Session, values: Mapping[str, Any] | None = None) -> None:
        """Run a statement whose outcome is not read. In a `pipeline` it goes
        out with the next statement whose result is read, and its error, if
        any, is raised there (or when the pipeline ends). In a `deferred`
        block it waits for the block's end."""
        memo = transaction_memo(session)
        queued: dict[Raw, list[Any]] | None = memo.get(_DEFERRED)
        if queued is not None:
            dialect, _driver_connection = memo[_DRIVER]
            queued.setdefault(self, []).append(self.compiled(dialect).parameters(values or {}))
            return
        self._execute(session, values, _nothing)

    def many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once per row of parameters (executemany). In a
        `deferred` block the rows wait for the block's end."""
        if not rows:
            return
        dialect, driver = _driver(session)
        compiled = self.compiled(dialect)
        parameters = [compiled.parameters(row) for row in rows]
        queued = _queued(session)
        if queued is not None:
            queued.setdefault(self, []).extend(parameters)
            return
        self._run_many(dialect, driver, parameters)

    def _run_many(self, dialect: Dialect, driver: Any, parameters: list[Any]) -> None:
        compiled = self.compiled(dialect)
        at_once = compiled.rows_at_once()
        if at_once is not None and len(parameters) > 1:
            _run_at_once(dialect, driver, at_once, parameters)
            return
        cursor = driver.cursor()
        try:
            with _wrapped(dialect, compiled.sql, driver, cursor):
                cursor.executemany(compiled.sql, parameters)
        finally:
            cursor.close()

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = _compile(self.statement, dialect)
            if dialect.name == "sqlite":
                found = replace(found, sql=_indexed_by(found.sql, self.sqlite_indexed_by))
            self._compiled[dialect.name] = found
        return found

    def _execute(
        self,
        session: Session,
        values: Mapping[str, Any] | None,
        fetch: Callable[[Any], Any],
    ) -> tuple[_Compiled, Any]:
        """Execute, and `fetch` what is wanted of the cursor; the driver's
        errors (in a pipeline, some come only with the fetch) as SQLAlchemy's."""
        dialect, driver = _driver(session)
        compiled = self.compiled(dialect)
        cursor = driver.cursor()
        try:
            with _wrapped(dialect, compiled.sql, driver, cursor):
                cursor.execute(compiled.sql, compiled.parameters(values or {}))
                return compiled, fetch(cursor)
        finally:
            cursor.close()


def read_together(
    session: Session, reads: Sequence[tuple[Raw, Mapping[str, Any] | None]]
) -> list[list[tuple[Any, ...]]]:
    """Each statement's rows (as `Raw.all` gives them), the statements sent
    together: on PostgreSQL in a pipeline, so that all of them take one
    round trip instead of one each; elsewhere one after the other. The
    server runs them in order, so a lock taken by one holds for the next."""
    dialect, driver = _driver(session)
    if dialect.name != "postgresql":
        return [statement.all(session, values) for statement, values in reads]
    cursors: list[tuple[_Compiled, Any]] = []
    try:
        with _wrapped(dialect, "pipeline", driver, None), driver.pipeline():
            for statement, values in reads:
                compiled = statement.compiled(dialect)
                cursor = driver.cursor()
                cursors.append((compiled, cursor))
                with _wrapped(dialect, compiled.sql, driver, cursor):
                    cursor.execute(compiled.sql, compiled.parameters(values or {}))
            found = []
            for compiled, cursor in cursors:
                with _wrapped(dialect, compiled.sql, driver, cursor):
                    found.append(compiled.rows(cursor.fetchall()))
        return found
    finally:
        for _compiled, cursor in cursors:
            cursor.close()


def any_of(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """PostgreSQL: `column = ANY(:name)`, the parameter `name` a list of
    strings (an array): one statement for many ids, through the column's index."""
    return column == any_(_strings(name))


def pairs_among(*columns: tuple[ColumnElement[Any], str]) -> ColumnElement[bool]:
    """PostgreSQL: `(a, b, ...) IN (SELECT unnest(:a_name), unnest(:b_name), ...)`
    for (column, parameter name) pairs, each parameter a list of strings (an
    array), the lists side by side: rows matching any of the tuples given,
    in one statement."""
    return tuple_(*(column for column, _name in columns)).in_(
        select(*(func.unnest(_strings(name)) for _column, name in columns))
    )


def _strings(name: str) -> BindParameter[Any]:
    """The parameter `name`, a list of strings sent as one array."""
    return bindparam(name, type_=ARRAY(String))


def _fetchall(cursor: Any) -> Any:
    return cursor.fetchall()


def _fetchone(cursor: Any) -> Any:
    return cursor.fetchone()


def _rowcount(cursor: Any) -> Any:
    return cursor.rowcount


def _nothing(_cursor: Any) -> None:
    return None


_TRANSACTION_MEMO = "backplan.transaction_memo"
_DEFERRED = "deferred"
_SAVEPOINTS = "backplan.raw_savepoints"
_DRIVER = "driver"


def transaction_memo(session: Session) -> dict[str, Any]:
    """A dict kept for the session's current transaction (begun if need be)
    and forgotten when another begins: for what stays true until the
    transaction ends, such as its connection (`_driver`) or what a batch reads
    once for all its pieces (`db.outbox`)."""
    root = session.get_transaction()
    kept = session.info.get(_TRANSACTION_MEMO)
    if root is not None and kept is not None and kept[0] is root:
        memo: dict[str, Any] = kept[1]
        return memo
    connection = session.connection()  # begins the transaction if need be
    memo = {_DRIVER: (connection.dialect, connection.connection.driver_connection)}
    session.info[_TRANSACTION_MEMO] = (session.get_transaction(), memo)
    return memo


def _driver(session: Session) -> tuple[Dialect, Any]:
    """The dialect and the driver's connection of the session's transaction.
    Asking the session for its connection costs ~40 µs inside a savepoint, so
    the answer is kept for the rest of the transaction."""
    dialect, driver = transaction_memo(session)[_DRIVER]
    return dialect, driver


def _queued(session: Session) -> dict[Raw, list[Any]] | None:
    """The statements waiting in the session's `deferred` block, if it is in one."""
    queued: dict[Raw, list[Any]] | None = transaction_memo(session).get(_DEFERRED)
    return queued


@contextmanager
def deferred(session: Session) -> Iterator[None]:
    """Statements sent in the block (`Raw.send`, `Raw.many`) wait, and run as
    it ends: each statement once, for all its rows (executemany), statements
    in the order each was first sent, a statement's rows in the order sent.
    On the driver that is a fraction of a statement's cost per row.

    For work whose writes nothing in the block reads back, or whose reads
    cannot miss one silently: a unique key a waiting insert will break fails
    the block as it ends, and a read that may depend on what waits calls
    `run_deferred` first. If the block raises, what waits is dropped with it
    (the caller rolls the transaction back). Nested blocks run as the
    outermost one ends."""
    memo = transaction_memo(session)
    if _DEFERRED in memo:
        yield
        return
    queued: dict[Raw, list[Any]] = {}
    memo[_DEFERRED] = queued
    try:
        yield
    finally:
        del memo[_DEFERRED]
    _run_queued(session, queued)


def run_deferred(session: Session) -> None:
    """Run what waits in the session's `deferred` block now, if anything does:
    for a read that must see it."""
    queued = _queued(session)
    if queued:
        waiting = dict(queued)
        queued.clear()
        _run_queued(session, waiting)


def _run_queued(session: Session, queued: dict[Raw, list[Any]]) -> None:
    dialect, driver = _driver(session)
    for statement, parameters in queued.items():
        statement._run_many(dialect, driver, parameters)


@contextmanager
def pipeline(session: Session) -> Iterator[None]:
    """On PostgreSQL, psycopg's pipeline mode for the block: statements go
    out without waiting for the server, and a round trip happens only where
    a result is read (`Raw.first`, `Raw.all`) or at the end.
    Statements sent with `Raw.send` ride along with the next one read, so
    work that reads little makes few round trips. Elsewhere (SQLite, in
    process) it changes nothing. For `Raw` statements only: SQLAlchemy's
    own execution reads each result as it goes."""
    dialect, driver = _driver(session)
    if dialect.name != "postgresql":
        yield
        return
    with _wrapped(dialect, "pipeline", driver, None), driver.pipeline():
        yield


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A savepoint in the session's transaction: what the block wrote is
    rolled back if it raises (and the error goes on), kept otherwise. In a
    `pipeline`, the block's statements are synced before it ends, so that
    their errors are the block's. For
    work that writes only through `Raw` and Core statements: the ORM's
    objects know nothing of it (`Session.begin_nested` does, at ~10x the cost)."""
    dialect, driver = _driver(session)
    number = session.info[_SAVEPOINTS] = session.info.get(_SAVEPOINTS, 0) + 1
    name = f"backplan_{number}"
    cursor = driver.cursor()
    try:
        with _wrapped(dialect, "SAVEPOINT", driver, cursor):
            cursor.execute(f"SAVEPOINT {name}")
        try:
            yield
            # In a pipeline, what the block only sent is checked here, while
            # its savepoint can still take it back.
            with _wrapped(dialect, "(pipeline sync)", driver, cursor):
                _sync(driver)
        except BaseException:
            with suppress(dialect.loaded_dbapi.Error):
                _sync(driver)
            with _wrapped(dialect, "ROLLBACK TO SAVEPOINT", driver, cursor):
                cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")
                cursor.execute(f"RELEASE SAVEPOINT {name}")
            raise
        with _wrapped(dialect, "RELEASE SAVEPOINT", driver, cursor):
            cursor.execute(f"RELEASE SAVEPOINT {name}")
    finally:
        cursor.close()


def _sync(driver: Any) -> None:
    """In a psycopg pipeline, send what is queued and raise the first error
    among it; elsewhere nothing. After an error, the statements queued behind
    it are skipped until the next sync: the savepoint syncs again (its errors
    suppressed, the one in hand and the skipped statements') before it rolls
    back."""
    if getattr(getattr(driver, "info", None), "pipeline_status", None):
        with driver.pipeline():  # leaving a nested pipeline syncs
            pass


@contextmanager
def _wrapped(dialect: Dialect, sql: str, driver: Any, cursor: Any) -> Iterator[None]:
    """The driver's errors as SQLAlchemy raises them (`IntegrityError`,
    `OperationalError`, ... wrapping the original), so that they are told
    apart and answered (`api.errors`) as they are for any other statement."""
    try:
        yield
    except dialect.loaded_dbapi.Error as error:
        invalidated = dialect.is_disconnect(error, driver, cursor)
        raise DBAPIError.instance(
            sql,
            None,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=invalidated,
            dialect=dialect,
        ) from error


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    kinds: dict[str, tuple[Processor | None, Any]] = {}
    for name, bind in compiled.binds.items():
        if bind.expanding or bind.literal_execute or bind.callable is not None:
            raise ValueError(f"Raw cannot run a statement with parameter {name!r} as it is")
        kinds[name] = (
            _bind_processor(bind.type, dialect),
            _REQUIRED if bind.required else bind.value,
        )
    names = (compiled.positiontup or ()) if compiled.positional else tuple(kinds)
    steps = tuple((name, *kinds[name]) for name in names)
    # A SELECT's columns, or an INSERT's / UPDATE's RETURNING ones.
    results = [
        column.type.dialect_impl(dialect).result_processor(dialect, None)
        for column in getattr(statement, "exported_columns", ())
    ]
    return _Compiled(
        sql=compiled.string,
        positional=bool(compiled.positional),
        steps=steps,
        results=tuple(results),
    )


def _indexed_by(sql: str, indexes: Mapping[str, str]) -> str:
    """`sql` with each table of `indexes` read through its index: the table's
    one mention after FROM or JOIN gets SQLite's INDEXED BY clause."""
    for table, index in indexes.items():
        mentions = [f"FROM {table} ", f"JOIN {table} "]
        found = [mention for mention in mentions if sql.count(mention) == 1]
        if len(found) != 1 or sum(sql.count(mention) for mention in mentions) != 1:
            raise ValueError(f"{table!r} is not read exactly once in: {sql}")
        sql = sql.replace(found[0], f"{found[0]}INDEXED BY {index} ")
    return sql


def _bind_processor(type_: Any, dialect: Dialect) -> Processor | None:
    """The type's bind processor for the dialect: its `raw_bind_processor`,
    if it has one (a faster function giving the very same values, such as
    `db.types.UtcDateTime`'s), else SQLAlchemy's."""
    faster = getattr(type_, "raw_bind_processor", None)
    if faster is not None:
        found: Processor | None = faster(dialect)
        if found is not None:
            return found
    process: Processor | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return process
