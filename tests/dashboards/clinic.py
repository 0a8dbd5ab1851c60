"""The generated clinic the dashboard tests share, and independent answers computed from its marts.

Built once per test process (pytest-xdist worker) into the worker's base temp folder: the dashboard and
browser tests both call ``built_clinic`` and a second call in the same worker reuses the first build. Tests
that use it carry one of two xdist groups, so `pytest -n 2 --dist loadgroup` runs the page and publish
tests on one worker and the live-republishing and browser tests on the other, each building it once.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
from streamlit.testing.v1 import AppTest

from analysis.publish import publish_aggregates
from core.config import Settings, resolve_settings
from ingest.generate import generate_clinic
from ingest.load import load_source
from kow.build import build_models

CLINIC_GROUP = "dashboard_clinic"  # AppTest pages, the published file
LIVE_GROUP = "dashboard_live"  # a running server, republishing, the browser
PATIENTS = 1500
SEED = 7
APP_TIMEOUT = 60  # seconds: AppTest's 3 s default is too short for a cold DuckDB and Altair (stack-notes.md)


def built_clinic(base: Path) -> Settings:
    """generate_clinic -> load_source -> build_models -> publish_aggregates, once per base folder."""
    root = base / "dashboard_clinic"
    settings = resolve_settings(root / "kow.duckdb", environ={})
    done = root / "built.ok"
    if done.exists():
        return settings
    shutil.rmtree(root, ignore_errors=True)
    generate_clinic(root / "source", patients=PATIENTS, seed=SEED)
    load_source(root / "source", settings)
    build_models(settings)
    publish_aggregates(settings)
    done.touch()
    return settings


def private_copy(settings: Settings, folder: Path) -> Settings:
    """A warehouse and published file of one's own, for tests that publish again."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = resolve_settings(folder / settings.warehouse.name, environ={})
    shutil.copy2(settings.warehouse, copy.warehouse)
    shutil.copy2(settings.published, copy.published)
    return copy


def page_app(published: Path, page: str = "overview") -> AppTest:
    """The dashboard as `streamlit run` starts it, opened on one page, reading ``published``."""
    script = ("from pathlib import Path\nfrom dashboards.app import main\n"
              f"main(Path({str(published)!r}), start={page!r})\n")
    return AppTest.from_string(script, default_timeout=APP_TIMEOUT)


def warehouse_rows(settings: Settings, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


# Expected values straight from the marts, for one filter combination ('All' = no filter). The filters mean:
# courses and outcomes by the course's first session (its route and calendar year); patients by their first
# course; sessions and events by their own route and year.
COURSE_FILTER = """
    ($site = 'All' OR c.site_id = $site) AND ($indication = 'All' OR c.indication = $indication)
    AND ($route = 'All' OR c.first_session_route = $route)
    AND ($period = 'All' OR strftime(c.first_session_date, '%Y') = $period)"""
SESSION_FILTER = """
    ($site = 'All' OR s.site_id = $site) AND ($indication = 'All' OR s.indication = $indication)
    AND ($route = 'All' OR s.route = $route) AND ($period = 'All' OR strftime(s.session_date, '%Y') = $period)"""


def expected_course_counts(settings: Settings, **cell: str) -> dict[str, int]:
    row = warehouse_rows(settings, f"""
        SELECT count(*) FILTER (WHERE c.course_number = 1), count(*),
               count(*) FILTER (WHERE c.primary_evaluable), count(*) FILTER (WHERE c.primary_responder),
               count(*) FILTER (WHERE c.primary_remitter), count(*) FILTER (WHERE c.primary_baseline_score IS NOT NULL)
        FROM marts.fct_courses c WHERE {COURSE_FILTER}""", _params(cell))[0]  # noqa: S608 - constant filter
    names = ("patients", "courses", "evaluable", "responders", "remitters", "with_baseline")
    return dict(zip(names, (int(v) for v in row), strict=True))


def expected_session_counts(settings: Settings, *, sbp: int, dbp: int, **cell: str) -> dict[str, int]:
    row = warehouse_rows(settings, f"""
        SELECT count(*), count(*) FILTER (WHERE s.sbp_max >= $sbp OR s.dbp_max >= $dbp),
               (SELECT count(*) FROM marts.fct_adverse_events e JOIN marts.fct_sessions s USING (session_id)
                WHERE {SESSION_FILTER})
        FROM marts.fct_sessions s WHERE {SESSION_FILTER}""",  # noqa: S608 - constant filter
        _params(cell) | {"sbp": sbp, "dbp": dbp})[0]
    return dict(zip(("sessions", "severe_hypertension", "events"), (int(v) for v in row), strict=True))


def expected_still_responding(settings: Settings, day: int, **cell: str) -> float | None:
    """Kaplan-Meier S(day) for responding courses of the cell, by hand (product over event days <= day)."""
    rows = warehouse_rows(settings, f"""
        SELECT d.days_to_event, d.lost_response FROM marts.fct_durability d
        JOIN marts.fct_courses c ON c.patient_id = d.patient_id AND c.course_number = d.course_number
        WHERE d.is_primary AND {COURSE_FILTER}""", _params(cell))  # noqa: S608 - constant filter
    if not rows:
        return None
    survival = 1.0
    for t in sorted({t for t, lost in rows if lost and t <= day}):
        at_risk = sum(1 for u, _ in rows if u >= t)
        lost = sum(1 for u, x in rows if u == t and x)
        survival *= 1 - lost / at_risk
    return survival


def expected_losses_by_day(settings: Settings, **cell: str) -> list[int]:
    """Days (with repeats) on which responding courses of the cell lost their response."""
    rows = warehouse_rows(settings, f"""
        SELECT d.days_to_event FROM marts.fct_durability d
        JOIN marts.fct_courses c ON c.patient_id = d.patient_id AND c.course_number = d.course_number
        WHERE d.is_primary AND d.lost_response AND {COURSE_FILTER}""", _params(cell))  # noqa: S608 - constant filter
    return sorted(r[0] for r in rows)


def _params(cell: dict[str, str]) -> dict[str, str]:
    return {"site": "All", "indication": "All", "route": "All", "period": "All"} | cell
