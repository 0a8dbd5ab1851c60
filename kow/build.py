"""build_models(): `dbt build` of the shipped project through dbtRunner and the shipped profile.

The project (dbt_project.yml, models/, seeds/, macros/) and its profiles.yml live at the repository root;
dbt writes its target/ and logs/ next to the warehouse (``<folder>/.dbt/<warehouse stem>/``), never into
the repository. The warehouse path reaches profiles.yml as ``KOW_WAREHOUSE`` in the environment of the run.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from core.config import Settings
from core.definitions import PROJECT_DIR, Definitions, load_definitions
from core.errors import KowError
from core.progress import ProgressFn, no_progress

RAW_SCHEMA = "raw"
RAW_TABLES = ("sites", "patients", "sessions", "assessments", "adverse_events", "loads", "load_files")
MARTS_SCHEMA = "marts"
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


class EmptyWarehouseError(KowError):
    """The warehouse has no raw data to build from."""


class BuildError(KowError):
    """dbt could not build the models, or a model or test failed."""


@dataclass(frozen=True)
class NodeResult:
    """How one dbt node (model, seed, data test, unit test) ended."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    message: str | None
    execution_time: float
    failures: int | None = None
    relation: str | None = None  # where a stored failure or a built model lives

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    def describe(self) -> str:
        text = f"{self.unique_id} ({self.name}): {self.status}"
        if self.message:
            text += ": " + self.message.replace("\r\n", "\n").strip()
        if self.relation and self.resource_type == "test" and self.failed:
            text += f" (failing rows stored in {self.relation})"
        return text


@dataclass(frozen=True)
class BuildSummary:
    """What a `dbt build` did: every node's status, the time it took, the vars it ran with."""

    warehouse: Path
    dbt_dir: Path
    nodes: tuple[NodeResult, ...]
    elapsed_seconds: float
    vars: Mapping[str, Any] = field(default_factory=dict)
    mart_rows: Mapping[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> tuple[NodeResult, ...]:
        return tuple(n for n in self.nodes if n.failed)

    @property
    def warned(self) -> tuple[NodeResult, ...]:
        return tuple(n for n in self.nodes if n.status == "warn")

    def count(self, resource_type: str) -> int:
        return sum(1 for n in self.nodes if n.resource_type == resource_type)

    def describe(self) -> str:
        parts = [
            f"{self.count('seed')} seeds",
            f"{self.count('model')} models",
            f"{self.count('test')} data tests",
            f"{self.count('unit_test')} unit tests",
        ]
        lines = [f"Built {self.warehouse} in {self.elapsed_seconds:.1f} s: {', '.join(parts)}."]
        if self.vars:
            lines.append("Definitions overridden: " + ", ".join(f"{k}={v}" for k, v in sorted(self.vars.items())))
        if self.warned:
            lines.append(f"{len(self.warned)} warning(s):")
            lines += [f"  {n.describe()}" for n in self.warned]
        if self.mart_rows:
            lines.append("Marts: " + ", ".join(f"{name} {rows:,}" for name, rows in self.mart_rows.items()))
        lines.append(f"dbt logs and artifacts: {self.dbt_dir}")
        return "\n".join(lines)


def dbt_dir_for(settings: Settings) -> Path:
    """Where dbt's target/ and logs/ go for this warehouse: beside it, never in the repository."""
    return settings.warehouse.parent / ".dbt" / settings.warehouse.stem


def build_models(
    settings: Settings,
    *,
    vars: Mapping[str, Any] | None = None,
    on_progress: ProgressFn = no_progress,
    on_total: Callable[[int], None] = lambda n: None,
    select: str | None = None,
) -> BuildSummary:
    """Run `dbt build` (seeds, models, unit tests, data tests) against the warehouse.

    ``vars`` overrides definitions (names from dbt_project.yml, checked by core.definitions);
    ``on_total`` gets the number of nodes dbt will run, ``on_progress(1)`` is called as each finishes;
    ``select`` is a dbt selection (``--select``). Raises EmptyWarehouseError when there is nothing to
    build from and BuildError naming every failing node.
    """
    overrides = _checked_vars(vars)
    _check_raw_layer(settings.warehouse)
    started = time.perf_counter()
    args = ["build"]
    if select:
        args += ["--select", select]
    results = _invoke(settings, args, overrides, on_progress=on_progress, on_total=on_total)
    elapsed = time.perf_counter() - started
    nodes = tuple(_node_result(r) for r in results)
    failed = [n for n in nodes if n.failed]
    if failed:
        skipped = sum(1 for n in nodes if n.status == "skipped")
        lines = [f"dbt build failed: {len(failed)} node(s) failed" + (f", {skipped} skipped" if skipped else "") + ":"]
        lines += [f"  {n.describe()}" for n in failed]
        lines.append(f"Logs: {dbt_dir_for(settings) / 'logs' / 'dbt.log'}")
        raise BuildError("\n".join(lines))
    return BuildSummary(
        warehouse=settings.warehouse,
        dbt_dir=dbt_dir_for(settings),
        nodes=nodes,
        elapsed_seconds=elapsed,
        vars=overrides,
        mart_rows=_mart_rows(settings.warehouse),
    )


def generate_docs(settings: Settings, *, vars: Mapping[str, Any] | None = None) -> Path:
    """Run `dbt docs generate`; returns the folder holding index.html, manifest.json and catalog.json."""
    overrides = _checked_vars(vars)
    _check_raw_layer(settings.warehouse)
    _invoke(settings, ["docs", "generate"], overrides)
    return dbt_dir_for(settings) / "target"


def _checked_vars(vars: Mapping[str, Any] | None) -> dict[str, Any]:
    """Overrides validated and typed by core.definitions (unknown names raise KowError)."""
    if not vars:
        return {}
    definitions = load_definitions(vars)
    _check_definitions(definitions)
    typed = definitions.as_dict()
    return {name: typed[name] for name in vars}


def _check_definitions(d: Definitions) -> None:
    problems = []
    for name in ("course_gap_days", "induction_sessions", "relapse_consecutive", "min_cell_size"):
        if getattr(d, name) < 1:
            problems.append(f"{name} must be at least 1")
    for name in ("induction_window_days", "baseline_window_days", "endpoint_window_days"):
        if getattr(d, name) < 0:
            problems.append(f"{name} must not be negative")
    for name in ("response_reduction", "alpha"):
        if not 0 < getattr(d, name) < 1:
            problems.append(f"{name} must be between 0 and 1")
    if not 1 <= d.serious_grade_min <= 5:
        problems.append("serious_grade_min must be a grade from 1 to 5")
    edges = d.dose_band_edges_mg_per_kg
    if not edges or edges[0] <= 0 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        problems.append("dose_band_edges_mg_per_kg must be positive and increasing")
    if problems:
        raise KowError("Invalid definition var(s): " + "; ".join(problems) + ".")


def _check_raw_layer(warehouse: Path) -> None:
    """Refuse to build from a missing or empty warehouse, with the command that fills it."""
    hint = "Run `kow ingest` first."
    if not warehouse.exists():
        raise EmptyWarehouseError(f"No warehouse at {warehouse}. {hint}")
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise KowError(f"Cannot open {warehouse}: {_first_line(exc)}. Is another kow command running?") from exc
    try:
        present = {
            row[0]
            for row in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [RAW_SCHEMA]
            ).fetchall()
        }
        missing = [t for t in RAW_TABLES if t not in present]
        if missing:
            raise EmptyWarehouseError(
                f"{warehouse} has no raw data (missing {', '.join(f'raw.{t}' for t in missing)}). {hint}"
            )
        patients = con.execute(f"SELECT count(*) FROM {RAW_SCHEMA}.patients").fetchone()  # noqa: S608
        if not patients or not patients[0]:
            raise EmptyWarehouseError(f"{warehouse} has no patients loaded. {hint}")
    finally:
        con.close()


def _invoke(
    settings: Settings,
    command: Sequence[str],
    overrides: Mapping[str, Any],
    *,
    on_progress: ProgressFn = no_progress,
    on_total: Callable[[int], None] = lambda n: None,
) -> list[Any]:
    """One dbtRunner invocation with the shipped project and profile; returns dbt's node results."""
    from dbt.cli.main import dbtRunner  # imported here: dbt takes a second to import

    dbt_dir = dbt_dir_for(settings)
    args = [
        *command,
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(dbt_dir / "target"),
        "--log-path", str(dbt_dir / "logs"),
        "--log-level", "none",
        "--log-level-file", "info",
        "--no-use-colors",
    ]
    if overrides:
        args += ["--vars", json.dumps(dict(overrides))]
    lock = threading.Lock()
    total_reported: list[int] = []

    def callback(event: Any) -> None:
        # dbt calls back from its worker threads. The first "N of TOTAL START" line carries the total
        # with unit tests (ConcurrencyLine's node_count leaves them out); each finished node is one step.
        name = event.info.name
        if name == "LogStartLine" and not total_reported:
            with lock:
                if not total_reported:
                    total_reported.append(int(event.data.total))
                    on_total(total_reported[0])
        elif name == "NodeFinished":
            with lock:
                on_progress(1)

    environment = {
        "KOW_WAREHOUSE": str(settings.warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    dbt_dir.mkdir(parents=True, exist_ok=True)
    with _environment(environment):
        try:
            outcome = dbtRunner(callbacks=[callback]).invoke(args)
        finally:
            _close_dbt_connections()
    if outcome.exception is not None:
        raise BuildError(f"dbt {' '.join(command)} could not run: {outcome.exception}")
    results = getattr(outcome.result, "results", None)
    if results is None:
        if not outcome.success:
            raise BuildError(f"dbt {' '.join(command)} failed; see {dbt_dir / 'logs' / 'dbt.log'}")
        return []
    return list(results)


@contextmanager
def _environment(updates: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of one dbt run (dbt reads env_var() from os.environ)."""
    saved = {name: os.environ.get(name) for name in updates}
    os.environ.update(updates)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _close_dbt_connections() -> None:
    """Release dbt-duckdb's shared database handle so the file is closed and unlocked (stack-notes)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    DuckDBConnectionManager.close_all_connections()


def _node_result(result: Any) -> NodeResult:
    node = result.node
    relation = getattr(node, "relation_name", None)
    relation = relation.replace('"', "") if relation else None
    return NodeResult(
        unique_id=node.unique_id,
        name=node.name,
        resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
        status=str(getattr(result.status, "value", result.status)),
        message=result.message,
        execution_time=float(result.execution_time or 0.0),
        failures=result.failures,
        relation=relation,
    )


def _mart_rows(warehouse: Path) -> dict[str, int]:
    """Row counts of the marts just built, for the summary."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [
            row[0]
            for row in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name",
                [MARTS_SCHEMA],
            ).fetchall()
        ]
        return {
            f"{MARTS_SCHEMA}.{t}": int(con.execute(f'SELECT count(*) FROM {MARTS_SCHEMA}."{t}"').fetchone()[0])  # noqa: S608
            for t in tables
        }
    finally:
        con.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
