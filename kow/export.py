"""What leaves the warehouse: `kow export` (mart rows for researchers, suppressed aggregates for sharing
outside, each folder with its manifest.json) and `kow docs` (the dbt docs site).

    OUT/rows/         dim_patients, fct_courses, fct_sessions, fct_response, fct_durability, fct_adverse_events
    OUT/aggregates/   summary: the cohort's summary overall, by indication and by site, suppressed as one cube

Rows are as de-identified as the warehouse (pseudonymous ids, ZIP3, ages capped at 90) and keep real
dates: a limited data set for researchers under a data use agreement, never for sharing outside. Only
the aggregates folder, which has no row, id or date, is meant to leave. Each folder is written beside
its final name and swapped in, so a reader never sees a half-written export.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from threading import Event, Thread
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from analysis.cohorts.connection import open_marts
from analysis.cohorts.definition import CohortDefinition, load_definition, parse_definition
from analysis.cohorts.evaluate import evaluate_cohort
from analysis.cohorts.rows import ROW_MARTS, mart_reader
from analysis.cohorts.select import select_cohort
from analysis.cohorts.summary import summarise
from core.config import Settings
from core.definitions import load_definitions, load_event_terms
from core.errors import KowError

FORMATS = ("csv", "parquet")
EVERY_COURSE = "name: all_courses\ninclude: {}\n"  # the cohort of an export without --cohort


@dataclass(frozen=True)
class ExportedFile:
    path: str  # relative to its folder
    table: str
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class ExportSummary:
    out_dir: Path
    folders: tuple[Path, ...]
    files: tuple[ExportedFile, ...]
    cohort: str
    fmt: str
    seconds: float

    def describe(self) -> str:
        lines = [f"Exported cohort {self.cohort} as {self.fmt} to {self.out_dir} in {self.seconds:.1f} s:"]
        lines += [f"  {f.path}: {f.rows:,} rows" for f in self.files]
        lines += [f"  {folder.name}/manifest.json" for folder in self.folders]
        if any(folder.name == "rows" for folder in self.folders):
            lines.append("rows/ holds patient-level rows with real dates: for researchers only, never share it "
                         "outside; aggregates/ is suppressed for sharing.")
        return "\n".join(lines)


def export_warehouse(settings: Settings, *, cohort: Path | None = None, fmt: str = "parquet", out_dir: Path,
                     aggregates_only: bool = False) -> ExportSummary:
    """Export the marts (rows; skipped with ``aggregates_only``) and the suppressed summary, each with a manifest."""
    started = time.perf_counter()
    if fmt not in FORMATS:
        raise KowError(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r}).")
    definition = load_definition(cohort) if cohort is not None else parse_definition(EVERY_COURSE, "<every course>")
    context = _context(settings, definition, fmt)
    folders, files = [], []
    if not aggregates_only:
        written = _build_folder(out_dir / "rows", lambda tmp: _write_rows(settings, definition, fmt, tmp),
                                {**context, "kind": "rows"})
        folders.append(out_dir / "rows")
        files += [ExportedFile(f"rows/{f.path}", f.table, f.rows, f.bytes, f.sha256) for f in written]
    written = _build_folder(out_dir / "aggregates", lambda tmp: _write_aggregates(settings, definition, fmt, tmp),
                            {**context, "kind": "aggregates", "suppression": _suppression_note()})
    folders.append(out_dir / "aggregates")
    files += [ExportedFile(f"aggregates/{f.path}", f.table, f.rows, f.bytes, f.sha256) for f in written]
    return ExportSummary(out_dir, tuple(folders), tuple(files), definition.name, fmt, time.perf_counter() - started)


def _build_folder(final: Path, write: Callable[[Path], list[ExportedFile]],
                  manifest: dict[str, Any]) -> list[ExportedFile]:
    """Write into a sibling temp folder with manifest.json, then swap it in for `final`."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.partial")
    tmp.mkdir()
    try:
        files = write(tmp)
        manifest = {**manifest, "files": [asdict(f) for f in files]}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
        old = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.old")
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return files


def _write_rows(settings: Settings, definition: CohortDefinition, fmt: str, folder: Path) -> list[ExportedFile]:
    files = []
    with open_marts(settings.warehouse) as con:
        members_only = bool(definition.criteria)
        if members_only:
            select_cohort(con, definition)
        for mart in ROW_MARTS:
            path = folder / f"{mart}.{fmt}"
            rows = _stream(mart_reader(con, mart, members_only=members_only), path, fmt)
            files.append(_described(path, f"marts.{mart}", rows))
    return files


def _stream(reader: pa.RecordBatchReader, path: Path, fmt: str) -> int:
    """Write Arrow batches as they come; returns the row count."""
    rows = 0
    writer: Any = pq.ParquetWriter(path, reader.schema) if fmt == "parquet" else pa_csv.CSVWriter(path, reader.schema)
    with writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def _write_aggregates(settings: Settings, definition: CohortDefinition, fmt: str,
                      folder: Path) -> list[ExportedFile]:
    result = evaluate_cohort(definition, settings.warehouse)
    d = result.definitions
    table = summarise(result.data, cohort=definition.name, min_cell_size=d.min_cell_size, alpha=d.alpha,
                      event_terms=load_event_terms(), group_by="indication_and_site").table
    path = folder / f"summary.{fmt}"
    table.write_parquet(path) if fmt == "parquet" else table.write_csv(path)
    return [_described(path, "summary (overall, by indication, by site)", table.height)]


def _described(path: Path, table: str, rows: int) -> ExportedFile:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return ExportedFile(path.name, table, rows, path.stat().st_size, digest.hexdigest())


def _context(settings: Settings, definition: CohortDefinition, fmt: str) -> dict[str, Any]:
    """The manifest's provenance: definitions in force, vars the build recorded, loads, versions."""
    overrides: dict[str, Any] | None = None
    with open_marts(settings.warehouse) as con:
        loads = [{"load_id": r[0], "finished_at": r[1]} for r in con.execute(
            "SELECT DISTINCT load_id, load_finished_at::VARCHAR FROM wh.marts.agg_data_quality "
            "WHERE load_id IS NOT NULL ORDER BY 2, 1").fetchall()]
        recorded = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_catalog = 'wh' "
                               "AND table_schema = 'marts' AND table_name = 'dim_definitions'").fetchall()[0][0]
        if recorded:
            overrides = dict(con.execute("SELECT var_name, var_value FROM wh.marts.dim_definitions").fetchall())
    return {
        "created_at": datetime.now(UTC).replace(microsecond=0).isoformat(), "format": fmt,
        "warehouse": settings.warehouse.name,  # the file name only: a local path says nothing useful outside
        "cohort": definition.as_dict() | {"source": Path(definition.source).name},
        "definitions": load_definitions().as_dict(),
        "vars": overrides if overrides is not None else "not recorded by the build (marts.dim_definitions absent); "
                                                        "definitions above are dbt_project.yml's",
        "loads": loads, "versions": _versions(),
    }


def _suppression_note() -> dict[str, Any]:
    d = load_definitions()
    return {"min_cell_size": d.min_cell_size,
            "rule": f"counts 0-{d.min_cell_size - 1} show as '<{d.min_cell_size}'; counts that would let one be "
                    "recomputed show as 'suppressed'; estimates are blank where a count behind them is hidden"}


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("kow", "duckdb", "polars", "pyarrow", "dbt-core", "dbt-duckdb"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No request log: stdout and stderr belong to the user's command."""


def serve_dbt_docs(settings: Settings, port: int = 8080, *, host: str = "127.0.0.1",
                   ready: Callable[[str], None] | None = None, stop: Event | None = None) -> int:
    """`dbt docs generate` (kow.build.generate_docs) and serve the site until Ctrl-C or ``stop`` is set.

    Returns the port served (``port=0`` picks a free one; ``ready`` gets the URL once listening).
    Serves the generated folder with Python's http.server, as `dbt docs serve` does, on localhost only.
    """
    from kow.build import generate_docs  # dbt is slow to import; only this command needs it

    target = generate_docs(settings)
    handler = partial(_QuietHandler, directory=str(target))
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise KowError(f"Cannot serve the docs on {host}:{port}: {exc.strerror}. Try another --port.") from exc
    with server:
        bound = int(server.server_address[1])
        if ready is not None:
            ready(f"http://{host}:{bound}/")
        if stop is None:
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                pass
        else:
            worker = Thread(target=server.serve_forever, daemon=True)
            worker.start()
            stop.wait()
            server.shutdown()
            worker.join()
    return bound


__all__ = ["FORMATS", "ExportSummary", "ExportedFile", "export_warehouse", "serve_dbt_docs"]
