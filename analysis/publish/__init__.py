"""publish_aggregates(): the dashboard's file, aggregates only, every small count suppressed, swapped in atomically.

The dashboard never opens the warehouse (DuckDB allows one writer per file, and a reader would block a
rebuild). It reads ``settings.published``, which this module writes: pre-aggregated cells for every
filter combination the dashboard offers (site, indication, route, period = all time or one calendar
year, each with an 'All' row; months for the trends), estimates and intervals computed here from the
marts, completed on a fixed grid so no filter choice comes back empty (analysis/publish/grid.py), then
small-cell suppression, zeros included (analysis/suppression.py). No patient, session, assessment or event
id and no date finer than a month leaves the warehouse.

Periods are whole calendar years and nothing else on purpose: two overlapping periods (a year and
"the last 12 months") would let a reader subtract one from the other and recover suppressed months.
Filters are single choices for the same reason (a subset of sites is a new, unprotected total).

Column types carry meaning: every BIGINT column is a count subject to suppression (null when suppressed,
with the row's ``suppressed`` flag set); weeks, orders and file numbers are INTEGER.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from analysis.publish import queries as q
from analysis.publish import tables as t
from analysis.publish.grid import Grid, calendar_months, known
from analysis.suppression import ALL
from core.config import Settings
from core.definitions import Definitions, load_definitions
from core.errors import KowError
from ingest.contract import ROUTES

REQUIRED_MARTS = ("dim_patients", "fct_sessions", "fct_courses", "fct_durability", "fct_adverse_events",
                  "fct_assessment_scores")
# Model results of `kow analyze` that the dashboard shows when present. Their descriptive tables
# (ae_rates, response_by_indication, durability_km) are left out on purpose: the cubes here hold the
# same counts, and a second copy suppressed differently would let one copy fill in the other's gaps.
ANALYSIS_TABLES = ("response_odds_ratios", "ae_rate_ratios", "durability_hazard_ratios", "trajectory_effects")


@dataclass(frozen=True)
class PublishSummary:
    """What a publish wrote: tables and rows, how many counts were suppressed, how long it took."""

    published: Path
    tables: Mapping[str, int]
    counts_published: int
    counts_suppressed: int
    min_cell_size: int
    analysis_tables: tuple[str, ...] = ()
    seconds: float = 0.0

    def describe(self) -> str:
        lines = [
            f"Published {len(self.tables)} aggregate tables to {self.published} in {self.seconds:.1f} s.",
            f"Small cells: {self.counts_suppressed:,} of {self.counts_published:,} published cells have a count "
            f"suppressed (below {self.min_cell_size}, or hidden so that no small count can be recomputed).",
        ]
        if self.analysis_tables:
            lines.append("Analysis results included: " + ", ".join(self.analysis_tables) + ".")
        else:
            lines.append("No analysis results yet (run `kow analyze` to add model estimates).")
        return "\n".join(lines)


def publish_aggregates(settings: Settings, *, definitions: Definitions | None = None) -> PublishSummary:
    """Write settings.published from the warehouse's marts (and analysis tables when present), atomically.

    ``definitions`` (min_cell_size, alpha, thresholds) default to those the marts were built with
    (marts.dim_definitions when the build recorded them, else dbt_project.yml's).
    Raises KowError when the warehouse or its marts are missing, or another process holds it for writing.
    """
    started = time.perf_counter()
    with _warehouse(settings.warehouse) as con:
        defs = definitions or _built_with(con)
        tables, present = _published_tables(con, defs)
    with publish_atomically(settings.published) as out:
        for name, frame in tables.items():
            _write(out, name, frame)
    published, suppressed = _count_cells(tables)
    return PublishSummary(
        published=settings.published,
        tables={name: frame.height for name, frame in tables.items()},
        counts_published=published,
        counts_suppressed=suppressed,
        min_cell_size=defs.min_cell_size,
        analysis_tables=present,
        seconds=time.perf_counter() - started,
    )


@contextmanager
def publish_atomically(target: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a new file beside ``target``; on success it replaces ``target`` in one rename.

    Readers holding the old file keep its inode until they close; new readers see the new file at once.
    The builder is closed before the rename (closing checkpoints and removes its .wal), and a stray
    ``target.wal`` left by a crashed writer is removed, since DuckDB 2 refuses to open a file whose WAL
    does not match it (stack-notes.md).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f".{target.name}.{os.getpid()}.building")  # pid: two publishers never collide
    for stale in (building, _wal(building)):
        stale.unlink(missing_ok=True)
    con = duckdb.connect(str(building))
    try:
        yield con
        con.execute("CHECKPOINT")
    except BaseException:  # re-raised: the half-built file must not survive, whatever stopped us
        con.close()
        building.unlink(missing_ok=True)
        _wal(building).unlink(missing_ok=True)
        raise
    con.close()
    _wal(building).unlink(missing_ok=True)
    _wal(target).unlink(missing_ok=True)
    os.replace(building, target)  # same folder, so one atomic rename


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


@contextmanager
def _warehouse(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse attached read-only to a private in-memory database (never the process-wide instance)."""
    if not path.exists():
        raise KowError(f"No warehouse at {path}. Run `kow ingest SOURCE_DIR` and `kow build` first.")
    con = duckdb.connect()
    try:
        try:
            con.execute("ATTACH ? AS wh (READ_ONLY)", [str(path)])
        except duckdb.Error as exc:
            raise KowError(f"Cannot read {path}: {_first_line(exc)}. Is another kow command running?") from exc
        present = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'wh' AND table_schema = 'marts'"
        ).fetchall()}
        missing = [m for m in REQUIRED_MARTS if m not in present]
        if missing:
            raise KowError(f"No marts in {path} (missing {', '.join('marts.' + m for m in missing)}). "
                           "Run `kow build` first.")
        yield con
    finally:
        con.close()


def _built_with(con: duckdb.DuckDBPyConnection) -> Definitions:
    """The vars the marts were built with, as analysis/marts.py reads them: a build with --vars publishes with
    the same thresholds it computed with."""
    found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_catalog = 'wh' "
                        "AND table_schema = 'marts' AND table_name = 'dim_definitions'").fetchone()
    if not found or not found[0]:
        return load_definitions()
    known = set(load_definitions().as_dict())
    rows = con.execute("SELECT var_name, var_value FROM wh.marts.dim_definitions").fetchall()
    return load_definitions({name: value for name, value in rows if name in known and value is not None})


def _published_tables(con: duckdb.DuckDBPyConnection,
                      defs: Definitions) -> tuple[dict[str, pl.DataFrame], tuple[str, ...]]:
    k, alpha = defs.min_cell_size, defs.alpha
    grid = _grid(con)
    km = _frame(con, q.KM_GRID, {"curve_weeks": t.CURVE_WEEKS, "trend_weeks": list(t.TREND_WEEKS)})
    courses = t.suppressed_courses(_frame(con, q.COURSE_CUBE), km, grid, k)
    sessions_raw = t.sessions_on_grid(_frame(con, q.SESSION_CUBE, {
        "dose_edges": list(defs.dose_band_edges_mg_per_kg),
        "sbp_threshold": defs.derived_hypertension_sbp_mmhg, "dbp_threshold": defs.derived_hypertension_dbp_mmhg,
    }), grid, defs.dose_band_edges_mg_per_kg).with_columns(
        dose_band=t.dose_band_label(pl.col("dose_band"), defs.dose_band_edges_mg_per_kg))
    sessions = t.suppressed_wide(sessions_raw, [*t.CUBE, "dose_band"], t.SESSION_MEASURES, t.SESSION_LINKS, k)
    terms = [(term, bool(derivable)) for term, derivable in con.execute(q.EVENT_TERMS).fetchall()]
    events = t.suppressed_wide(t.events_on_grid(_frame(con, q.EVENT_CUBE), grid, terms),
                               [*t.CUBE, "event_term", "source"], ("events",), (), k)
    trajectories = _frame(con, q.TRAJECTORY_CUBE, {"trajectory_days": 7 * t.TRAJECTORY_WEEKS})
    whole = sessions.filter(pl.col("dose_band") == ALL).drop("dose_band")
    all_events = events.filter((pl.col("event_term") == ALL) & (pl.col("source") == ALL)).select(*t.CUBE, "events")
    cells = t.cells(courses, whole, all_events)
    metrics = t.metrics(cells, km, alpha, k)
    tables = {
        "metrics": metrics,
        "event_rates": t.event_rates(events, whole, alpha),
        "dose_response": t.dose_response(sessions_raw, sessions, alpha),
        "durability_curves": t.durability_curves(km, courses, metrics, k, alpha),
        "durability_at_risk": t.durability_at_risk(courses),
        "score_trajectories": t.score_trajectories(trajectories, grid, k, alpha),
        "load_history": t.load_history(_frame(con, q.LOAD_HISTORY), k),
        "filter_options": t.filter_options(_frame(con, q.SITES), cells),
        "about": t.about(defs, cells),
    }
    present = []
    for name in ANALYSIS_TABLES:
        frame = _analysis_table(con, name, k)
        if frame is not None:
            tables[f"analysis_{name}"] = frame
            present.append(name)
    return tables, tuple(present)


def _grid(con: duckdb.DuckDBPyConnection) -> Grid:
    """Every site, every indication and route the project knows, every month from the first to the last session."""
    def column(sql: str) -> list[str]:
        return [r[0] for r in con.execute(sql).fetchall()]
    first, last = con.execute(q.CALENDAR).fetchone() or (None, None)
    return Grid(sites=known(column(q.SITES)), indications=known(column(q.INDICATIONS)),
                routes=known(ROUTES, column(q.ROUTES)), months=calendar_months(first, last))


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, object] | None = None) -> pl.DataFrame:
    return con.cursor().sql(sql, params=dict(params) if params else None).pl()


def _write(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    keys = (*t.CUBE, "event_term", "source", "dose_band", "measure", "metric", "week")
    order = [c for c in keys if c in frame.columns]  # sorted by the filter columns: DuckDB skips row groups
    con.register("frame", frame)
    con.execute(_create_table(name, order))
    con.unregister("frame")


def _count_cells(tables: Mapping[str, pl.DataFrame]) -> tuple[int, int]:
    """Counts published and suppressed across the tables that carry a suppressed flag (for the summary)."""
    total = hidden = 0
    for frame in tables.values():
        if "suppressed" in frame.columns:
            total += frame.height
            hidden += int(frame["suppressed"].sum())
    return total, hidden


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _analysis_select(table: str, columns: Sequence[str]) -> str:
    # identifiers only: the table is one of ANALYSIS_TABLES, the columns come from the warehouse's catalog
    return f"SELECT {', '.join(map(_quote, columns))} FROM wh.analysis.{_quote(table)}"  # noqa: S608


def _create_table(name: str, order: Sequence[str]) -> str:
    # identifiers only: our own table names and cube columns; the rows come from the registered frame
    order_by = f" ORDER BY {', '.join(map(_quote, order))}" if order else ""
    return f"CREATE TABLE {_quote(name)} AS SELECT * FROM frame{order_by}"  # noqa: S608

def _analysis_table(con: duckdb.DuckDBPyConnection, name: str, min_cell_size: int) -> pl.DataFrame | None:
    """A model-result table of `kow analyze`, without id or date columns, its counts suppressed (primary only:
    these are whole-clinic model sizes, never a margin of the cubes)."""
    found = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = 'wh' AND table_schema = 'analysis' AND table_name = ? ORDER BY ordinal_position",
        [name]).fetchall()
    if not found:
        return None
    keep = [c for c, t in found if not c.endswith("_id") and not any(x in t for x in ("DATE", "TIME"))]
    counts = [c for c, t in found if c in keep and t in ("BIGINT", "INTEGER", "HUGEINT", "SMALLINT", "UBIGINT")]
    frame = con.cursor().sql(_analysis_select(name, keep)).pl()
    small = pl.any_horizontal([pl.col(c) < min_cell_size for c in counts]) if counts else pl.lit(False)
    return frame.with_columns(
        *[pl.when(pl.col(c) < min_cell_size).then(None).otherwise(pl.col(c)).cast(pl.Int64).alias(c)
          for c in counts],
        suppressed=small.fill_null(False),
    )
