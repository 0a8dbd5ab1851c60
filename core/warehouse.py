"""Opening the warehouse: one writer per file, readers read-only, writes inside one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from core.errors import KowError


def connect_writer(path: Path, *, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-write, creating its folder; a clear error when another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {"memory_limit": memory_limit} if memory_limit else {}
    try:
        con = duckdb.connect(str(path), config=config)
    except duckdb.IOException as exc:
        raise KowError(f"Cannot open {path} for writing: {_first_line(exc)}. Is another kow command running?") from exc
    con.execute("SET enable_progress_bar = false")  # the CLI draws its own progress
    return con


def connect_reader(path: Path) -> duckdb.DuckDBPyConnection:
    """Open an existing warehouse read-only."""
    if not path.exists():
        raise KowError(f"No warehouse at {path}. Run `kow ingest SOURCE_DIR` first.")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        raise KowError(f"Cannot open {path}: {_first_line(exc)}") from exc


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit when the block ends, roll back on any exception and re-raise it."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:  # re-raised: a rollback must happen on KeyboardInterrupt too
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
