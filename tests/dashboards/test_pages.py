"""Every page and every filter, run with AppTest on the generated clinic's published file.

Figures are checked against the marts (tests/dashboards/clinic.py), suppressed ones against the rule, and
charts by the data Streamlit hands to the browser (AppTest cannot draw them: stack-notes.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from analysis.publish import publish_aggregates
from core.config import Settings
from core.definitions import load_definitions
from dashboards.app import published_path
from dashboards.labels import fmt_count, fmt_value
from tests.dashboards.clinic import (
    CLINIC_GROUP,
    expected_course_counts,
    expected_session_counts,
    expected_still_responding,
    page_app,
    private_copy,
    warehouse_rows,
)

pytestmark = pytest.mark.xdist_group(CLINIC_GROUP)
DEFS = load_definitions()
MARK = f"<{DEFS.min_cell_size}*"
PAGES = {"overview": "Overview", "outcomes": "Outcomes", "durability": "Durability", "safety": "Safety",
         "sites": "Sites", "data-quality": "Data quality"}
FILTERS = {"site": "K7-S01", "indication": "TRD", "route": "IV", "period": "2023"}
LABELS = {"K7-S01": "Clinic 1 (NV)"}


def run(clinic: Settings, page: str, **filters: str) -> AppTest:
    at = page_app(clinic.published, page).run()
    assert not at.exception, [e.value for e in at.exception]
    for dimension, value in filters.items():
        at.selectbox(key=f"filter_{dimension}").set_value(value)
    if filters:
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no figure {label!r} among {[m.label for m in at.metric]}"
    return found[0]


def chart_frames(at: AppTest) -> list[list[pl.DataFrame]]:
    """For each chart on the page, the data frames Streamlit sends with it."""
    out = []
    for element in at.get("vega_lite_chart"):
        frames = [pl.from_arrow(pa.ipc.open_stream(d.data.data).read_all()) for d in element.proto.datasets]
        spec = json.loads(element.proto.spec)
        assert spec, "empty chart spec"
        out.append(frames)
    return out


def table(at: AppTest, index: int = 0) -> pl.DataFrame:
    return pl.from_pandas(at.dataframe[index].value)


# ---- every page ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_its_title_its_charts_with_data_and_the_suppression_note(clinic: Settings, page: str):
    at = run(clinic, page)
    assert [t.value for t in at.title] == [PAGES[page]]
    charts = chart_frames(at)
    assert charts, page
    assert all(any(f.height for f in frames) for frames in charts), page
    assert any(MARK in c.value for c in at.caption), "the suppression mark is explained on every page"
    assert at.caption[0].value.startswith("All sites · All indications · All routes · All time")


def test_overview_shows_the_whole_clinic_figures_of_the_marts(clinic: Settings):
    at = run(clinic, "overview")
    counts = expected_course_counts(clinic)
    sessions = expected_session_counts(clinic, sbp=DEFS.derived_hypertension_sbp_mmhg,
                                       dbp=DEFS.derived_hypertension_dbp_mmhg)
    assert metric(at, "Patients") == "1,500" == fmt_count(counts["patients"], {})
    assert metric(at, "Courses") == f"{counts['courses']:,}"
    assert metric(at, "Sessions") == f"{sessions['sessions']:,}"
    assert metric(at, "Response") == fmt_value(counts["responders"] / counts["evaluable"], "proportion")
    assert metric(at, "Remission") == fmt_value(counts["remitters"] / counts["evaluable"], "proportion")
    severe = 100 * sessions["severe_hypertension"] / sessions["sessions"]
    assert metric(at, "Severe hypertension per 100") == f"{severe:.2f}"
    assert metric(at, "Adverse events per 100") == f"{100 * sessions['events'] / sessions['sessions']:.2f}"
    assert metric(at, "Still responding at 4 weeks") == fmt_value(expected_still_responding(clinic, 28), "proportion")
    captions = " ".join(c.value for c in at.caption)
    assert f"{counts['responders']:,} of {counts['evaluable']:,}" in captions
    assert "95% CI" in captions
    trend = chart_frames(at)[0]
    titles = set(pl.concat([f for f in trend if "title" in f.columns])["title"].to_list())
    assert {"Patients", "Response (%)", "Severe hypertension per 100"} <= titles
    assert any(m.help and "Wilson" in m.help for m in at.metric), "figures carry their definition"


def test_overview_trend_by_year_has_one_point_per_year_and_metric(clinic: Settings):
    at = run(clinic, "overview")
    at.segmented_control(key="overview_trend").set_value("Year").run()
    assert not at.exception
    data = pl.concat([f for f in chart_frames(at)[0] if "month" in f.columns])
    sql = "SELECT DISTINCT strftime(session_date, '%Y') FROM marts.fct_sessions"
    years = {r[0] for r in warehouse_rows(clinic, sql)}
    assert set(data.filter(pl.col("title") == "Sessions")["month"].to_list()) == years


def test_overview_trend_opens_by_year_when_most_months_are_suppressed_and_keeps_the_readers_choice(
        clinic: Settings, tmp_path: Path):
    con = duckdb.connect(str(clinic.published), read_only=True)
    try:
        hidden, total = con.execute("""
            SELECT count(*) FILTER (WHERE suppressed), count(*) FROM metrics WHERE site = 'All'
            AND indication = 'All' AND route = 'All' AND month <> 'All'""").fetchone()
    finally:
        con.close()
    assert hidden > total / 2, "the test clinic's months should be mostly suppressed"
    at = run(clinic, "overview")
    assert at.segmented_control(key="overview_trend").value == "Year"
    at.segmented_control(key="overview_trend").set_value("Month").run()
    at.selectbox(key="filter_site").set_value("K7-S01").run()  # a new filter keeps the reader's choice
    assert at.segmented_control(key="overview_trend").value == "Month"
    # the same clinic published with a threshold of 1 (only zeros hidden): most months show, so by month
    loose = private_copy(clinic, tmp_path / "loose")
    publish_aggregates(loose, definitions=load_definitions({"min_cell_size": 1}))
    at = page_app(loose.published, "overview").run()
    assert not at.exception
    assert at.segmented_control(key="overview_trend").value == "Month"


def test_overview_shows_a_small_count_as_the_suppression_mark(clinic: Settings):
    site, indication, n = warehouse_rows(clinic, """
        SELECT site_id, indication, count(*) FROM marts.fct_courses WHERE course_number = 1
        GROUP BY ALL HAVING count(*) BETWEEN 1 AND 10 ORDER BY ALL LIMIT 1""")[0]
    assert 1 <= n < DEFS.min_cell_size
    at = run(clinic, "overview", site=site, indication=indication)
    assert metric(at, "Patients") == MARK
    assert metric(at, "Response") in ("suppressed", "—")
    assert MARK in " ".join(c.value for c in at.caption) or metric(at, "Courses") == MARK


# ---- every filter on every page ---------------------------------------------------------------------------------

def _overview(at: AppTest, clinic: Settings, cell: dict[str, str]) -> None:
    counts = expected_course_counts(clinic, **cell)
    assert metric(at, "Patients") in (f"{counts['patients']:,}", MARK)
    assert metric(at, "Courses") in (f"{counts['courses']:,}", MARK)
    if metric(at, "Courses") == MARK:
        assert counts["courses"] < DEFS.min_cell_size or counts["courses"] > 0


def _outcomes(at: AppTest, clinic: Settings, cell: dict[str, str]) -> None:
    rows = table(at)
    name = "All indications" if "indication" not in cell else cell["indication"]
    row = rows.filter(pl.col("Indication") == name).row(0, named=True)
    counts = expected_course_counts(clinic, **cell)
    assert row["Evaluable courses"] in (f"{counts['evaluable']:,}", MARK)
    if row["Response"] not in ("suppressed", "—"):
        assert row["Response"] == fmt_value(counts["responders"] / counts["evaluable"], "proportion")
        assert row["Responders"] == f"{counts['responders']:,}"


def _durability(at: AppTest, clinic: Settings, cell: dict[str, str]) -> None:
    shown = metric(at, "Still responding at 8 weeks")
    if shown not in ("suppressed", "—"):
        assert shown == fmt_value(expected_still_responding(clinic, 56, **cell), "proportion")
    drawn = bool(chart_frames(at))
    assert drawn or "No curve to show" in at.info[0].value


def _safety(at: AppTest, clinic: Settings, cell: dict[str, str]) -> None:
    sessions = expected_session_counts(clinic, sbp=DEFS.derived_hypertension_sbp_mmhg,
                                       dbp=DEFS.derived_hypertension_dbp_mmhg, **cell)
    shown = metric(at, "Adverse events per 100")
    if shown != "suppressed":
        assert shown == f"{100 * sessions['events'] / sessions['sessions']:.2f}"
    assert len(chart_frames(at)) == 3


def _sites(at: AppTest, clinic: Settings, cell: dict[str, str]) -> None:
    rows = table(at, 0)
    for site, label in (("K7-S01", "Clinic 1 (NV)"),):
        counts = expected_course_counts(clinic, **(cell | {"site": site}))
        shown = rows.filter(pl.col("Site") == label)["Evaluable courses"].item()
        assert shown in (f"{counts['evaluable']:,}", MARK)


def _data_quality(at: AppTest, clinic: Settings, cell: dict[str, str]) -> None:
    counts = expected_course_counts(clinic, **cell)
    shown = metric(at, "Baseline captured")
    if shown not in ("suppressed", "—"):
        assert shown == fmt_value(counts["with_baseline"] / counts["courses"], "proportion")
    loads = table(at, 0)
    assert loads["Outcome"].to_list() == ["loaded"]


CHECKS: dict[str, Callable[[AppTest, Settings, dict[str, str]], None]] = {
    "overview": _overview, "outcomes": _outcomes, "durability": _durability, "safety": _safety,
    "sites": _sites, "data-quality": _data_quality,
}


@pytest.mark.parametrize("dimension", list(FILTERS))
@pytest.mark.parametrize("page", list(PAGES))
def test_page_honours_the_filter(clinic: Settings, page: str, dimension: str):
    value = FILTERS[dimension]
    at = run(clinic, page, **{dimension: value})
    assert LABELS.get(value, value) in at.caption[0].value
    CHECKS[page](at, clinic, {dimension: value})


@pytest.mark.parametrize("page", list(PAGES))
def test_page_honours_all_four_filters_at_once(clinic: Settings, page: str):
    at = run(clinic, page, **FILTERS)
    assert at.caption[0].value.startswith("Clinic 1 (NV) · TRD · IV · 2023")
    CHECKS[page](at, clinic, dict(FILTERS))


def test_filters_persist_when_moving_between_pages(clinic: Settings):
    at = run(clinic, "overview", site="K7-S01")
    at.session_state["filter_period"] = "2023"
    at.run()
    assert at.caption[0].value.startswith("Clinic 1 (NV) · All indications · All routes · 2023")


# ---- page details ---------------------------------------------------------------------------------------------------

def test_outcomes_forest_puts_published_figures_beside_the_clinic(clinic: Settings):
    at = run(clinic, "outcomes")
    forest = pl.concat([f for f in chart_frames(at)[0] if "source" in f.columns])
    assert {"This clinic", "Published"} == set(forest["source"].to_list())
    assert "McInnes 2022 (real-world IV, PHQ-9, n=537)" in forest["row"].to_list()
    at = run(clinic, "outcomes", indication="PTSD")
    rows = pl.concat([f for f in chart_frames(at)[0] if "source" in f.columns])["row"].to_list()
    assert any(r.startswith("PTSD (n=") for r in rows)
    assert any(r.startswith("Feder 2021") for r in rows)
    assert not any(r.startswith("McInnes") for r in rows)


def test_durability_prints_numbers_at_risk_with_small_ones_suppressed(clinic: Settings):
    at = run(clinic, "durability")
    frames = chart_frames(at)[0]
    labels = pl.concat([f for f in frames if "label" in f.columns and "group" in f.columns])
    whole = labels.filter(pl.col("group") == "All indications").sort("week")
    responders = expected_course_counts(clinic)["responders"]
    assert whole["label"][0] == f"{responders:,}"
    assert MARK in labels["label"].to_list()


def test_safety_u_chart_follows_the_chosen_event_term(clinic: Settings):
    at = run(clinic, "safety")
    everything = pl.concat([f for f in chart_frames(at)[1] if "ucl" in f.columns])
    at.selectbox(key="safety_term").set_value("dissociation").run()
    assert not at.exception
    one_term = pl.concat([f for f in chart_frames(at)[1] if "ucl" in f.columns])
    assert one_term["rate"].mean() < everything["rate"].mean()
    assert (one_term["ucl"] >= one_term["centre"]).all()
    assert (one_term["lcl"] <= one_term["centre"]).all()


def test_sites_funnel_places_every_shown_site_against_its_limits(clinic: Settings):
    at = run(clinic, "sites")
    points = [f for f in chart_frames(at)[0] if "position" in f.columns]
    assert points
    assert set(points[0]["label"].to_list()) == {"Clinic 1 (NV)", "Clinic 2 (NY)", "Clinic 3 (WA)"}
    limits = [f for f in chart_frames(at)[0] if "level" in f.columns][0]
    assert set(limits["level"].to_list()) == {"95%", "99.8%"}


def test_dashboard_says_so_when_nothing_is_published(tmp_path: Path):
    at = page_app(tmp_path / "published.duckdb").run()
    assert not at.exception
    assert "Nothing published yet" in at.info[0].value


def test_published_path_comes_from_the_argument_then_the_environment_then_the_default(tmp_path: Path):
    assert published_path(["--published", str(tmp_path / "p.duckdb")], {}) == tmp_path / "p.duckdb"
    assert published_path([], {"KOW_PUBLISHED": str(tmp_path / "e.duckdb")}) == tmp_path / "e.duckdb"
    default = published_path([], {"KOW_WAREHOUSE": str(tmp_path / "w" / "kow.duckdb")})
    assert default == tmp_path / "w" / "published.duckdb"


def test_outcomes_shows_published_model_ratios_when_kow_analyze_ran(clinic: Settings, tmp_path: Path):
    from analysis.publish import publish_aggregates
    from tests.dashboards.clinic import private_copy
    from tests.dashboards.test_publish import add_analysis_tables

    mine = private_copy(clinic, tmp_path / "analysed")
    add_analysis_tables(mine)
    publish_aggregates(mine)
    at = page_app(mine.published, "outcomes").run()
    assert not at.exception
    assert "Adjusted odds ratios of response (whole clinic)" in [s.value for s in at.subheader]
    ratios = pl.concat([f for f in chart_frames(at)[-1] if "ratio" in f.columns])
    assert ratios["term"].to_list() == ["route=IM", "route=ORAL"]
