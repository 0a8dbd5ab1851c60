"""The cohort's connection: an in-memory DuckDB with the warehouse attached read-only, the file system shut.

Why not connect_reader(path): temp tables (the members) need a writable catalog, which must not be the
warehouse; and connect() without a path avoids the same-process instance cache (stack-notes). After the
ATTACH, external access is switched off and the configuration locked, so even a statement we did not
mean to run could not read a file, write one, attach another database or load an extension.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from analysis.marts import REQUIRED_MARTS, MartsMissingError
from core.errors import KowError

ALIAS = "wh"  # the SQL of analysis/cohorts names the warehouse wh.marts.<table>


@contextmanager
def open_marts(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A sandboxed read-only connection to the warehouse's marts; closes it at the end of the block."""
    if not warehouse.exists():
        raise MartsMissingError(f"No warehouse at {warehouse}. Run `kow ingest SOURCE_DIR`, then `kow build` first.")
    con = duckdb.connect()
    try:
        try:
            con.execute(f"ATTACH ? AS {ALIAS} (READ_ONLY)", [str(warehouse)])
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise KowError(f"Cannot open {warehouse} read-only: {first}. Is a kow build or ingest running?") from exc
        try:
            con.execute("SET enable_progress_bar = false")  # the CLI draws its own progress
        except duckdb.InvalidInputException:
            pass  # inside Jupyter without ipywidgets DuckDB refuses to touch the setting; its bar is off there
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")  # last: nothing after this can undo the two above
        present = {row[0] for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = 'marts'",
            [ALIAS]).fetchall()}
        missing = [f"marts.{t}" for t in REQUIRED_MARTS if t not in present]
        if missing:
            raise MartsMissingError(f"No built marts in {warehouse} (missing {', '.join(missing)}). "
                                    "Run `kow build` first.")
        yield con
    finally:
        con.close()
