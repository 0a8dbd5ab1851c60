"""kow ingest: check a clinic's export folder against the contract, then load it in one transaction."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from core.config import Settings
from core.errors import MAX_VIOLATIONS_SHOWN, ContractError, KowError, Violation
from core.progress import ProgressFn, no_progress
from core.warehouse import connect_writer, table_exists, transaction
from ingest.contract import DEFAULTS, Table, contract
from ingest.read import (
    SourceFile,
    file_sha256,
    find_table_files,
    map_header,
    read_header,
    rejected_rows,
    source_select,
)
from ingest.rules import build_check, duplicate_violations, reference_violations, row_violations

RAW = "raw"
LOADS_DDL = (
    "CREATE TABLE IF NOT EXISTS raw.loads (load_id VARCHAR PRIMARY KEY, source_path VARCHAR, "
    "started_at TIMESTAMP, finished_at TIMESTAMP, outcome VARCHAR, site_ids VARCHAR[], message VARCHAR, "
    "replaced_by VARCHAR)",
    "CREATE TABLE IF NOT EXISTS raw.load_files (load_id VARCHAR, table_name VARCHAR, file_name VARCHAR, "
    "content_hash VARCHAR, row_count BIGINT, size_bytes BIGINT)",
)
INGEST_MEMORY_LIMIT = "3GB"  # 1M patients must load within 4 GiB of resident memory; DuckDB spills past this


@dataclass(frozen=True)
class LoadSummary:
    source: Path
    warehouse: Path
    outcome: str  # 'loaded' or 'unchanged'
    load_id: str
    rows: dict[str, int] = field(default_factory=dict)
    replaced: tuple[str, ...] = ()
    seconds: float = 0.0

    def describe(self) -> str:
        if self.outcome == "unchanged":
            return (f"{self.source}: identical to load {self.load_id} already in {self.warehouse}; "
                    "nothing changed.")
        counts = ", ".join(f"{n:,} {t}" for t, n in self.rows.items())
        replaced = f" (replacing load {', '.join(self.replaced)})" if self.replaced else ""
        return (f"Loaded {self.source} into {self.warehouse} as load {self.load_id}{replaced}: {counts} "
                f"in {self.seconds:.1f} s.")


def load_steps() -> int:
    """How many progress steps load_source reports: check and load of each table, then the commit."""
    return 2 * len(contract()) + 1


def load_source(source_dir: Path, settings: Settings, *, drop_unknown_columns: bool = False,
                on_progress: ProgressFn = no_progress, memory_limit: str = INGEST_MEMORY_LIMIT) -> LoadSummary:
    """Check SOURCE_DIR against the contract and load it into schema raw, all or nothing.

    A newer export of a clinic already loaded (sharing its site ids) replaces that clinic's rows in the
    same transaction; identical content changes nothing. Raises ContractError listing the violations.
    """
    started = time.perf_counter()
    started_at = datetime.now(UTC).replace(tzinfo=None)
    source_dir = Path(source_dir).resolve()
    if not source_dir.is_dir():
        raise KowError(f"{source_dir} is not a folder. Give the folder holding the clinic's export files.")
    con = connect_writer(settings.warehouse, memory_limit=memory_limit)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            files, violations = find_table_files(source_dir, contract())
            hashes = {name: pool.submit(file_sha256, path) for name, path in files.items()}
            unchanged = _identical_load(con, files, hashes) if not violations else None
            if unchanged:
                return LoadSummary(source_dir, settings.warehouse, "unchanged", unchanged, seconds=_since(started))
            checked, found, total = _check_files(con, files, drop_unknown_columns, on_progress)
            violations += found
            total += len(violations) - len(found)
            digests = {name: future.result() for name, future in hashes.items()}
        load_id = f"{started_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        site_ids = _source_site_ids(con, checked)
        replaced, clinic_problems = _clinic_loads(con, site_ids)
        if not violations:
            clinic_problems += _warehouse_duplicates(con, checked, replaced)
        violations += clinic_problems
        total += len(clinic_problems)
        if violations:
            _record_refusal(con, load_id, source_dir, started_at, site_ids, total)
            raise ContractError(str(source_dir), sorted(violations, key=_order)[:MAX_VIOLATIONS_SHOWN], total)
        rows = _write(con, checked, load_id, replaced, digests, source_dir, started_at, site_ids, on_progress)
        return LoadSummary(source_dir, settings.warehouse, "loaded", load_id, rows, tuple(replaced),
                           _since(started))
    finally:
        con.close()


def _check_files(con: duckdb.DuckDBPyConnection, files: dict[str, Path], drop_unknown_columns: bool,
                 on_progress: ProgressFn) -> tuple[dict[str, SourceFile], list[Violation], int]:
    """Stage and check each file; cross-file references are checked once every file is staged."""
    checked: dict[str, SourceFile] = {}
    violations: list[Violation] = []
    total = 0
    for table in contract():
        path = files.get(table.name)
        if path is not None:
            found, count = _check_file(con, table, path, drop_unknown_columns, checked)
            violations += found
            total += count
        on_progress(1)
    for table in contract():
        for column in table.columns:
            if column.references is None or table.name not in checked:
                continue
            parent, key = column.references
            if parent in files and parent not in checked:
                continue  # the parent file itself is refused; its rows cannot be matched
            found, count = reference_violations(
                con, checked[table.name].name, _typed(table.name), column.name,
                _typed(parent) if parent in checked else None, key, files[parent].name if parent in files
                else f"{parent} (file missing)", MAX_VIOLATIONS_SHOWN)
            violations += found
            total += count
    return checked, violations, total


def _check_file(con: duckdb.DuckDBPyConnection, table: Table, path: Path, drop_unknown_columns: bool,
                checked: dict[str, SourceFile]) -> tuple[list[Violation], int]:
    header, types, problem = read_header(con, path)
    if problem:
        return [Violation(path.name, None, None, problem)], 1
    source, problems = map_header(table, path, header, types, drop_unknown_columns=drop_unknown_columns)
    if source is None:
        return problems, len(problems)
    rejects = f"_rejects_{table.name}"
    # Fast path: the CSV reader types the cells. Any row it rejects sends the file down the text path,
    # which reads every cell as text so that each violation gets its rule and an exact row number.
    attempts = (True, False) if source.format == "csv" else (False,)
    for typed in attempts:
        select_sql, params = source_select(source, rejects, typed=typed)
        check = build_check(table, source.positions, select_sql, typed_input=typed)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {_typed(table.name)} AS {check.select_sql}",  # noqa: S608
                        check.params | params)
        except duckdb.Error as exc:
            # DuckDB's message may quote the offending line, which may hold an identifier: name the kind only
            return [Violation(path.name, None, None, f"file cannot be read as {source.format.upper()} "
                              f"({type(exc).__name__})")], 1
        rejects_found = rejected_rows(con, source, rejects)
        if not rejects_found:
            break
    if rejects_found:
        # rows after a rejected one would be misnumbered: report the structural problems alone
        return rejects_found[:MAX_VIOLATIONS_SHOWN], len(rejects_found)
    found, total = row_violations(con, path.name, _typed(table.name), check, MAX_VIOLATIONS_SHOWN)
    dupes, dupe_total = duplicate_violations(con, path.name, _typed(table.name), table.key.name,
                                             MAX_VIOLATIONS_SHOWN)
    checked[table.name] = source
    return found + dupes, total + dupe_total


def _typed(table: str) -> str:
    return f"_typed_{table}"


def _source_site_ids(con: duckdb.DuckDBPyConnection, checked: dict[str, SourceFile]) -> list[str]:
    if "sites" not in checked:
        return []
    rows = con.execute(f"SELECT DISTINCT site_id FROM {_typed('sites')} WHERE site_id IS NOT NULL "  # noqa: S608
                       "ORDER BY site_id").fetchall()
    return [r[0] for r in rows]


def _identical_load(con: duckdb.DuckDBPyConnection, files: dict[str, Path],
                    hashes: dict[str, Future[str]]) -> str | None:
    """The current load with byte-identical files, if any: loading it again changes nothing.

    File sizes are compared first, so hashes are awaited only when a load could match.
    """
    if not table_exists(con, RAW, "load_files"):
        return None
    sizes = {name: path.stat().st_size for name, path in files.items()}
    candidates = [load_id for (load_id,) in con.execute(
        "SELECT f.load_id FROM raw.load_files AS f JOIN raw.loads AS l USING (load_id) "
        "WHERE l.outcome = 'loaded' GROUP BY f.load_id "
        "HAVING list_sort(list(f.table_name || '=' || f.size_bytes)) = $sizes",
        {"sizes": sorted(f"{name}={size}" for name, size in sizes.items())}).fetchall()]
    if not candidates:
        return None
    digests = {name: future.result() for name, future in hashes.items()}
    for load_id in candidates:
        stored = dict(con.execute("SELECT table_name, content_hash FROM raw.load_files WHERE load_id = ?",
                                  [load_id]).fetchall())
        if stored == digests:
            return load_id
    return None


def _clinic_loads(con: duckdb.DuckDBPyConnection, site_ids: list[str]) -> tuple[list[str], list[Violation]]:
    """Earlier loads of this clinic (sharing a site id), which this load replaces."""
    if not site_ids or not table_exists(con, RAW, "sites"):
        return [], []
    rows = con.execute(
        "SELECT load_id, list(DISTINCT site_id ORDER BY site_id) FROM raw.sites GROUP BY load_id "
        "HAVING list_has_any(list(site_id), $sites) ORDER BY load_id", {"sites": site_ids}).fetchall()
    problems = [
        Violation("sites", None, "site_id",
                  f"this clinic's earlier load {load_id} also had site(s) {', '.join(sorted(set(old) - set(site_ids)))}"
                  "; a newer export must carry all of the clinic's sites")
        for load_id, old in rows if set(old) - set(site_ids)
    ]
    return [r[0] for r in rows], problems


def _warehouse_duplicates(con: duckdb.DuckDBPyConnection, checked: dict[str, SourceFile],
                          replaced: list[str]) -> list[Violation]:
    """Ids already used by another clinic's rows: ids must stay unique across the warehouse."""
    problems: list[Violation] = []
    for name, source in checked.items():
        if not table_exists(con, RAW, name):
            continue
        key = source.table.key.name
        rows = con.execute(
            f"SELECT s.rowid + 1, r.load_id FROM {_typed(name)} AS s JOIN raw.{name} AS r ON r.{key} = s.{key} "  # noqa: S608
            f"WHERE NOT list_contains($replaced, r.load_id) ORDER BY s.rowid LIMIT {MAX_VIOLATIONS_SHOWN}",
            {"replaced": replaced}).fetchall()
        problems += [Violation(source.name, int(row), key, f"id already in the warehouse from another clinic's "
                               f"load {load_id}: ids must be unique across the warehouse") for row, load_id in rows]
    return problems


def _ensure_raw(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW}")
    for table in contract():
        columns = ", ".join(f"{c.name} {c.duckdb_type}" for c in table.columns)
        con.execute(f"CREATE TABLE IF NOT EXISTS {RAW}.{table.name} ({columns}, load_id VARCHAR)")
    for ddl in LOADS_DDL:
        con.execute(ddl)


def _write(con: duckdb.DuckDBPyConnection, checked: dict[str, SourceFile], load_id: str, replaced: list[str],
           digests: dict[str, str], source_dir: Path, started_at: datetime, site_ids: list[str],
           on_progress: ProgressFn) -> dict[str, int]:
    rows: dict[str, int] = {}
    with transaction(con):
        _ensure_raw(con)
        for table in reversed(contract()):
            con.execute(f"DELETE FROM {RAW}.{table.name} WHERE list_contains($replaced, load_id)",  # noqa: S608
                        {"replaced": replaced})
        for table in contract():
            if table.name in checked:
                columns = ", ".join(c.name for c in table.columns)
                values = ", ".join(_with_default(table.name, c.name) for c in table.columns)
                con.execute(f"INSERT INTO {RAW}.{table.name} ({columns}, load_id) "  # noqa: S608
                            f"SELECT {values}, $load_id FROM {_typed(table.name)}", {"load_id": load_id})
                (rows[table.name],) = con.execute(f"SELECT count(*) FROM {_typed(table.name)}").fetchone()  # noqa: S608
                con.execute(f"DROP TABLE {_typed(table.name)}")
            on_progress(1)
        finished = datetime.now(UTC).replace(tzinfo=None)
        con.execute("UPDATE raw.loads SET outcome = 'replaced', replaced_by = $load_id "
                    "WHERE list_contains($replaced, load_id)", {"load_id": load_id, "replaced": replaced})
        con.execute("INSERT INTO raw.loads VALUES ($load_id, $path, $started, $finished, 'loaded', $sites, "
                    "$message, NULL)", {"load_id": load_id, "path": str(source_dir), "started": started_at,
                                        "finished": finished, "sites": site_ids, "message": None})
        con.executemany("INSERT INTO raw.load_files VALUES (?, ?, ?, ?, ?, ?)", [
            (load_id, name, source.name, digests[name], rows.get(name, 0), source.path.stat().st_size)
            for name, source in checked.items()])
        on_progress(1)
    return rows


def _with_default(table: str, column: str) -> str:
    default = DEFAULTS.get((table, column))
    return f"coalesce({column}, {default})" if default else column


def _record_refusal(con: duckdb.DuckDBPyConnection, load_id: str, source_dir: Path, started_at: datetime,
                    site_ids: list[str], total: int) -> None:
    """Keep an audit row of the refused attempt; the data tables are not touched."""
    with transaction(con):
        _ensure_raw(con)
        con.execute("INSERT OR REPLACE INTO raw.loads VALUES ($load_id, $path, $started, $finished, 'refused', "
                    "$sites, $message, NULL)",
                    {"load_id": load_id, "path": str(source_dir), "started": started_at,
                     "finished": datetime.now(UTC).replace(tzinfo=None), "sites": site_ids,
                     "message": f"{total} contract violation(s)"})


def _since(started: float) -> float:
    return time.perf_counter() - started


_TABLE_ORDER = {t.name: i for i, t in enumerate(contract())}


def _order(v: Violation) -> tuple[int, int, str]:
    return (_TABLE_ORDER.get(v.file.split(".")[0], 99), v.row or 0, v.column or "")

