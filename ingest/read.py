"""Finding a source's files, reading their headers and staging their cells as text in DuckDB.

Nothing from a file reaches SQL text: paths travel as parameters and columns are addressed by position
(column0, column1, ...), mapped to contract names here in Python.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from core.errors import Violation
from ingest.contract import Table
from ingest.identifiers import identifier_kind_of_column, normalise_column_name

Format = Literal["csv", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "parquet")


@dataclass(frozen=True)
class SourceFile:
    """One table's file in a source folder, with its header mapped onto the contract."""

    table: Table
    path: Path
    format: Format
    positions: dict[str, int]  # contract column -> position in the file
    file_columns: tuple[str, ...]  # the header as written
    parquet_types: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path.name


def find_table_files(source_dir: Path, tables: Sequence[Table]) -> tuple[dict[str, Path], list[Violation]]:
    """Each contract table's file in the folder (file names are case-insensitive), and what is missing."""
    by_name: dict[str, list[Path]] = {}
    for path in sorted(source_dir.iterdir()):
        if path.is_file():
            by_name.setdefault(path.name.lower(), []).append(path)
    found: dict[str, Path] = {}
    problems: list[Violation] = []
    for table in tables:
        candidates = [p for fmt in FORMATS for p in by_name.get(f"{table.name}.{fmt}", [])]
        if len(candidates) > 1:
            names = ", ".join(p.name for p in candidates)
            problems.append(Violation(table.name, None, None, f"more than one file for this table ({names})"))
        elif candidates:
            found[table.name] = candidates[0]
        elif table.required:
            problems.append(Violation(f"{table.name}.csv", None, None,
                                      "required file missing (sites and patients must be present)"))
    return found, problems


def read_header(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """The column names (and parquet types) of a file, or a reason it has no usable header."""
    if path.suffix.lower() == ".parquet":
        try:
            rows = con.execute("DESCRIBE SELECT * FROM read_parquet($path)", {"path": str(path)}).fetchall()
        except duckdb.Error:
            return (), (), "not a readable Parquet file"
        return tuple(r[0] for r in rows), tuple(str(r[1]) for r in rows), None
    with path.open("rb") as fh:
        first = fh.readline()
    if not first.strip():
        return (), (), "file is empty: a header row is required"
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        return (), (), "header row is not valid UTF-8"
    return tuple(next(csv.reader([text]))), (), None


def map_header(table: Table, path: Path, header: Sequence[str], parquet_types: Sequence[str],
               *, drop_unknown_columns: bool) -> tuple[SourceFile | None, list[Violation]]:
    """Match a header to the contract: unknown, identifying, duplicate and missing columns are violations."""
    problems: list[Violation] = []
    positions: dict[str, int] = {}
    for position, written in enumerate(header):
        name = written.strip().lower()
        if name in table.column_names:
            if name in positions:
                problems.append(Violation(path.name, None, written, "column appears more than once"))
            positions[name] = position
            continue
        kind = identifier_kind_of_column(written)
        if kind:
            problems.append(Violation(path.name, None, written or f"#{position + 1}",
                                      f"column name suggests an identifier ({kind}); de-identify the export"))
        elif not drop_unknown_columns:
            label = written or f"#{position + 1} (unnamed)"
            problems.append(Violation(path.name, None, label,
                                      "column not in the source contract (use --drop-unknown-columns to ignore it)"))
        elif normalise_column_name(written) in table.column_names:
            problems.append(Violation(path.name, None, written, "column name is misspelt: write it as in the contract"))
    for column in table.columns:
        if column.required and column.name not in positions:
            problems.append(Violation(path.name, None, column.name, "required column missing"))
    if problems:
        return None, problems
    fmt: Format = "parquet" if path.suffix.lower() == ".parquet" else "csv"
    return SourceFile(table, path, fmt, positions, tuple(header), tuple(parquet_types)), []


def file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


# How the CSV reader parses each kind when it types cells itself (the fast path). Whole numbers are read
# as DOUBLE so that 12.5 is caught by the rules instead of being rounded by the cast.
_READER_TYPES = {"text": "VARCHAR", "integer": "DOUBLE", "number": "DOUBLE", "date": "DATE", "boolean": "BOOLEAN"}


def source_select(source: SourceFile, rejects: str, *, typed: bool = False) -> tuple[str, dict[str, str]]:
    """SQL yielding the file's cells, one `t_<column>` per contract column present.

    Text columns come trimmed, empty as NULL. With ``typed`` the CSV reader also parses numbers, dates and
    booleans (fast, but a cell it cannot parse rejects its row); otherwise every cell is text. Rows the
    reader rejects (ragged, bad quoting, not UTF-8, unparseable when typed) go to the temp table `rejects`
    instead of stopping the scan; read them with `rejected_rows`.
    """
    columns = [c for c in source.table.columns if c.name in source.positions]
    if source.format == "parquet":
        select = ", ".join(_parquet_text(source, c.name) for c in columns)
        return f"SELECT {select} FROM read_parquet($path)", {"path": str(source.path)}  # noqa: S608
    kinds = {source.positions[c.name]: c.kind for c in columns}
    spec = ", ".join(
        f"'column{i}': '{_READER_TYPES[kinds[i]] if typed and i in kinds else 'VARCHAR'}'"
        for i in range(len(source.file_columns))
    )
    select = ", ".join(
        f"NULLIF(trim(column{source.positions[c.name]}), '') AS t_{c.name}" if c.kind == "text" or not typed
        else f"column{source.positions[c.name]} AS t_{c.name}"
        for c in columns
    )
    sql = (
        f"SELECT {select} FROM read_csv($path, header = false, skip = 1, auto_detect = false, "  # noqa: S608
        f"delim = ',', quote = '\"', escape = '\"', columns = {{{spec}}}, dateformat = '%Y-%m-%d', "
        f"store_rejects = true, rejects_table = '{rejects}', rejects_scan = '{rejects}_scan', rejects_limit = 1000)"
    )
    return sql, {"path": str(source.path)}


def rejected_rows(con: duckdb.DuckDBPyConnection, source: SourceFile, rejects: str) -> list[Violation]:
    """The CSV rows a scan could not parse, as violations; drops the rejects tables."""
    if source.format != "csv":
        return []
    rows = con.execute(
        f"SELECT line, column_idx, error_type FROM {rejects} ORDER BY line, column_idx"  # noqa: S608
    ).fetchall()
    con.execute(f"DROP TABLE IF EXISTS {rejects}")
    con.execute(f"DROP TABLE IF EXISTS {rejects}_scan")
    return [_reject_violation(source, line, column_idx, error_type) for line, column_idx, error_type in rows]


def _parquet_text(source: SourceFile, column: str) -> str:
    position = source.positions[column]
    quoted = '"' + source.file_columns[position].replace('"', '""') + '"'
    kind = source.parquet_types[position].upper()
    if kind.startswith("TIMESTAMP"):
        # pandas writes dates as midnight timestamps; a time of day is finer than the contract allows
        return (f"CASE WHEN {quoted} = date_trunc('day', {quoted}) THEN strftime({quoted}, '%Y-%m-%d') "
                f"ELSE CAST({quoted} AS VARCHAR) END AS t_{column}")
    return f"NULLIF(trim(CAST({quoted} AS VARCHAR)), '') AS t_{column}"


_REJECT_RULES = {
    "TOO MANY COLUMNS": "row has more cells than the header (ragged row)",
    "MISSING COLUMNS": "row has fewer cells than the header (ragged row)",
    "INVALID ENCODING": "bytes that are not UTF-8 (save the file as UTF-8)",
    "INVALID UNICODE": "bytes that are not UTF-8 (save the file as UTF-8)",
    "UNQUOTED VALUE": "badly quoted value",
    "LINE SIZE OVER MAXIMUM": "line too long",
}


def _reject_violation(source: SourceFile, line: int, column_idx: int | None, error_type: str) -> Violation:
    column = None
    if column_idx and 0 < column_idx <= len(source.file_columns):
        column = source.file_columns[column_idx - 1]
    rule = _REJECT_RULES.get(str(error_type).upper(), f"row does not parse ({str(error_type).lower()})")
    return Violation(source.name, int(line) - 1, column, rule)
