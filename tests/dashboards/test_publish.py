"""The published file: aggregates only, small counts suppressed with their complements, estimates right,
swapped in atomically (analysis/publish.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from analysis.publish import publish_aggregates, publish_atomically
from analysis.suppression import Dimension, calendar, flat, revealing_margins
from core.config import Settings, resolve_settings
from core.definitions import load_definitions
from core.errors import KowError
from tests.dashboards.clinic import (
    CLINIC_GROUP,
    expected_course_counts,
    expected_losses_by_day,
    expected_session_counts,
    expected_still_responding,
    private_copy,
    warehouse_rows,
)

pytestmark = pytest.mark.xdist_group(CLINIC_GROUP)
K = load_definitions().min_cell_size
CUBE = [flat("site"), flat("indication"), flat("route")]
COUNT_TYPES = {"BIGINT"}


def published(settings: Settings) -> dict[str, pl.DataFrame]:
    con = duckdb.connect(str(settings.published), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return {name: con.sql(f'SELECT * FROM "{name}"').pl() for name in names}  # noqa: S608 - catalog names
    finally:
        con.close()


def columns(settings: Settings) -> list[tuple[str, str, str]]:
    con = duckdb.connect(str(settings.published), read_only=True)
    try:
        return con.execute("SELECT table_name, column_name, data_type FROM information_schema.columns").fetchall()
    finally:
        con.close()


def with_time(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(_time=pl.when(pl.col("month") != "All").then(pl.col("month")).otherwise(pl.col("period")))


@pytest.fixture(scope="module")
def tables(clinic: Settings) -> dict[str, pl.DataFrame]:
    return published(clinic)


# ---- privacy by construction --------------------------------------------------------------------------------

def test_published_file_holds_no_identifier_columns_and_no_dates(clinic: Settings):
    found = columns(clinic)
    assert not [c for c in found if c[1].endswith("_id")]
    assert not [c for c in found if any(kind in c[2] for kind in ("DATE", "TIME", "INTERVAL"))]


def test_published_file_holds_no_identifier_values(clinic: Settings, tables: dict[str, pl.DataFrame]):
    """No patient, session, assessment or event id of the warehouse appears anywhere in the file."""
    ids = set()
    for sql in ("SELECT patient_id FROM marts.dim_patients", "SELECT session_id FROM marts.fct_sessions",
                "SELECT event_id FROM marts.fct_adverse_events WHERE event_id IS NOT NULL",
                "SELECT assessment_id FROM raw.assessments"):
        ids |= {r[0] for r in warehouse_rows(clinic, sql)}
    texts = {v for frame in tables.values() for c in frame.columns if frame[c].dtype == pl.String
             for v in frame[c].drop_nulls().unique().to_list()}
    assert not texts & ids
    assert not [t for t in texts if re.search(r"-(P|V|E|A)\d{5,}", t)]


def test_published_months_are_months_and_periods_are_years(tables: dict[str, pl.DataFrame]):
    for frame in tables.values():
        for column, pattern in (("month", r"^(All|\d{4}-\d{2})$"), ("period", r"^(All|\d{4})$"),
                                ("loaded_month", r"^\d{4}-\d{2}$")):
            if column in frame.columns:
                assert frame[column].str.contains(pattern).all(), column


def test_every_published_count_is_at_least_min_cell_size(clinic: Settings, tables: dict[str, pl.DataFrame]):
    """definitions.md: any count below min_cell_size is suppressed, zero included."""
    counts = [(t, c) for t, c, kind in columns(clinic) if kind in COUNT_TYPES]
    assert counts, "no count columns found"
    for table, column in counts:
        values = tables[table][column].drop_nulls()
        assert not (values < K).any(), f"{table}.{column} shows a count below {K}"


def test_every_table_with_counts_flags_its_suppressed_rows(clinic: Settings, tables: dict[str, pl.DataFrame]):
    for table in {t for t, _, kind in columns(clinic) if kind in COUNT_TYPES} - {"filter_options"}:
        frame = tables[table]
        assert "suppressed" in frame.columns, table
        counts = [c for t, c, kind in columns(clinic) if t == table and kind in COUNT_TYPES]
        # a null count is always a suppressed one
        assert frame.filter(pl.any_horizontal(pl.col(c).is_null() for c in counts if c != "denominator"))[
            "suppressed"].all(), table


def filter_values(tables: dict[str, pl.DataFrame], dimension: str) -> list[str]:
    options = tables["filter_options"]
    return options.filter(pl.col("dimension") == dimension)["value"].to_list()


def test_every_filter_combination_has_its_row_so_none_reads_as_zero(tables: dict[str, pl.DataFrame]):
    """An absent row would show "no data", a zero: every combination the filters offer is published."""
    combinations = 1
    for dimension in ("site", "indication", "route", "period"):
        combinations *= len(filter_values(tables, dimension))
    whole = tables["metrics"].filter((pl.col("month") == "All") & (pl.col("metric") == "courses"))
    assert whole.height == combinations
    assert whole.select("site", "indication", "route", "period").unique().height == combinations
    # trend months: every month of the span, for every site x indication x route
    months = tables["metrics"].filter((pl.col("month") != "All") & (pl.col("metric") == "courses"))["month"]
    first, last = months.min(), months.max()
    span = (int(last[:4]) - int(first[:4])) * 12 + int(last[5:]) - int(first[5:]) + 1
    assert months.n_unique() == span
    assert months.len() == span * combinations // len(filter_values(tables, "period"))


def test_an_indication_nobody_has_is_offered_and_suppressed(clinic: Settings, tables: dict[str, pl.DataFrame],
                                                           tmp_path: Path):
    """Every indication of the seed is offered; one without courses shows its counts suppressed, never 0."""
    seeded = {r[0] for r in warehouse_rows(clinic, "SELECT DISTINCT indication FROM seeds.icd10_indications")}
    assert seeded <= set(filter_values(tables, "indication"))
    mine = private_copy(clinic, tmp_path / "new_indication")
    con = duckdb.connect(str(mine.warehouse))
    try:  # an analyst maps a new ICD-10 prefix that no patient has yet
        con.execute("INSERT INTO seeds.icd10_indications (code_prefix, indication, priority) "
                    "VALUES ('F63', 'IMPULSE_CONTROL', 5)")
    finally:
        con.close()
    publish_aggregates(mine)
    after = published(mine)
    assert "IMPULSE_CONTROL" in filter_values(after, "indication")
    rows = after["metrics"].filter(pl.col("indication") == "IMPULSE_CONTROL")
    assert rows.height == tables["metrics"].filter(pl.col("indication") == "TRD").height
    assert rows["numerator"].is_null().all()
    assert rows["suppressed"].all()


def test_a_combination_without_courses_is_published_suppressed(clinic: Settings, tables: dict[str, pl.DataFrame]):
    occurring = {tuple(r) for r in warehouse_rows(clinic, """
        SELECT DISTINCT site_id, indication, first_session_route, strftime(first_session_date, '%Y')
        FROM marts.fct_courses""")}
    whole = tables["metrics"].filter((pl.col("metric") == "courses") & (pl.col("month") == "All"),
                                     *(pl.col(c) != "All" for c in ("site", "indication", "route", "period")))
    empty = whole.filter(~pl.concat_str("site", "indication", "route", "period", separator="|").is_in(
        ["|".join(key) for key in occurring]))
    assert empty.height > 0, "every combination has courses: the test proves nothing"
    assert empty["numerator"].is_null().all()
    assert empty["suppressed"].all()


def test_every_event_term_of_the_seed_has_its_rows(clinic: Settings, tables: dict[str, pl.DataFrame]):
    terms = {r[0] for r in warehouse_rows(clinic, "SELECT event_term FROM seeds.event_terms")}
    whole = tables["event_rates"].filter(*(pl.col(c) == "All" for c in ("site", "indication", "route", "period",
                                                                        "month")))
    assert terms <= set(whole["event_term"].to_list())
    derivable = {r[0] for r in warehouse_rows(clinic, "SELECT event_term FROM seeds.event_terms WHERE derivable")}
    derived = set(whole.filter(pl.col("source") == "derived")["event_term"].to_list())
    assert derived == derivable | {"All"}


# ---- complementary suppression, checked on the file itself ----------------------------------------------------

MARGINS: dict[tuple[str, str], tuple[list[Dimension], list[str]]] = {
    # (table, count column): (dimensions it adds up along, key columns that split cells)
    ("metrics", "numerator"): ([*CUBE, calendar("_time")], ["metric"]),
    ("metrics", "denominator"): ([*CUBE, calendar("_time")], ["metric"]),
    ("event_rates", "events"): ([*CUBE, calendar("_time"), flat("event_term"), flat("source")], []),
    ("dose_response", "sessions"): ([*CUBE, calendar("period"), flat("dose_band")], ["measure"]),
    ("durability_at_risk", "at_risk"): ([*CUBE, calendar("period")], ["week"]),
    ("score_trajectories", "courses"): ([*CUBE, calendar("period")], ["week"]),
}


@pytest.mark.parametrize(("table", "count"), sorted(MARGINS))
def test_no_suppressed_count_is_total_minus_shown_parts_in_any_margin(tables: dict[str, pl.DataFrame], table: str,
                                                                      count: str):
    dims, key = MARGINS[(table, count)]
    frame = with_time(tables[table]) if "month" in tables[table].columns else tables[table]
    if table == "metrics" and count == "denominator":  # count metrics have no denominator at all
        frame = frame.filter(pl.col("unit") != "count")
    assert frame[count].is_null().any(), f"{table}.{count}: nothing suppressed, the test proves nothing"
    assert revealing_margins(frame, dims, value=count, key=key) == 0, f"{table}.{count}"


def test_every_copy_of_a_count_is_suppressed_alike(tables: dict[str, pl.DataFrame]):
    """Sessions appear beside every event term: each copy must equal the metrics table's, null included,
    or one copy would fill in the other's gaps."""
    cube = ["site", "indication", "route", "period", "month"]
    sessions = tables["metrics"].filter(pl.col("metric") == "sessions").select(*cube, pl.col("numerator").alias("s"))
    copies = tables["event_rates"].select(*cube, "sessions").unique().join(sessions, on=cube, how="left")
    assert copies.height > 0
    assert copies.filter(pl.col("sessions").ne_missing(pl.col("s"))).is_empty()
    period = cube[:4]
    whole = tables["metrics"].filter(pl.col("month") == "All")
    for week, metric, column in ((0, "still_responding_4w", "denominator"), (4, "still_responding_4w", "numerator"),
                                 (8, "still_responding_8w", "numerator")):
        at_risk = tables["durability_at_risk"].filter(pl.col("week") == week).select(*period, "at_risk")
        ours = whole.filter(pl.col("metric") == metric).select(*period, pl.col(column).alias("m"))
        joined = at_risk.join(ours, on=period, how="inner")
        assert joined.height > 0
        assert joined.filter(pl.col("at_risk").ne_missing(pl.col("m"))).is_empty(), (week, metric)


NESTED = [("induction_completion", K), ("response", K), ("remission", K), ("baseline_completion", K),
          ("endpoint_completion", K), ("missing_vitals", K), ("still_responding_4w", K)]


@pytest.mark.parametrize(("metric", "k"), NESTED)
def test_no_small_difference_between_a_shown_count_and_its_shown_superset(tables: dict[str, pl.DataFrame],
                                                                         metric: str, k: int):
    """'evaluable - responders' is a count of non-responders: it must not be small (or zero) either."""
    rows = tables["metrics"].filter((pl.col("metric") == metric) & pl.col("numerator").is_not_null()
                                    & pl.col("denominator").is_not_null())
    difference = rows["denominator"] - rows["numerator"]
    assert not (difference < k).any()


# ---- the numbers ------------------------------------------------------------------------------------------------

def metric_row(tables: dict[str, pl.DataFrame], metric: str, **cell: str) -> dict:
    want = {"site": "All", "indication": "All", "route": "All", "period": "All", "month": "All"} | cell
    rows = tables["metrics"].filter(pl.col("metric") == metric, *(pl.col(k) == v for k, v in want.items()))
    assert rows.height == 1, (metric, cell)
    return rows.row(0, named=True)


def test_published_whole_clinic_counts_and_rates_match_the_marts(clinic: Settings, tables: dict[str, pl.DataFrame]):
    courses = expected_course_counts(clinic)
    defs = load_definitions()
    sessions = expected_session_counts(clinic, sbp=defs.derived_hypertension_sbp_mmhg,
                                       dbp=defs.derived_hypertension_dbp_mmhg)
    assert metric_row(tables, "patients")["numerator"] == courses["patients"] == 1500
    assert metric_row(tables, "courses")["numerator"] == courses["courses"]
    response = metric_row(tables, "response")
    assert (response["numerator"], response["denominator"]) == (courses["responders"], courses["evaluable"])
    assert response["estimate"] == pytest.approx(courses["responders"] / courses["evaluable"])
    assert response["ci_low"] < response["estimate"] < response["ci_high"]
    rate = metric_row(tables, "severe_hypertension")
    assert rate["estimate"] == pytest.approx(100 * sessions["severe_hypertension"] / sessions["sessions"])
    events = metric_row(tables, "adverse_events")
    assert (events["numerator"], events["denominator"]) == (sessions["events"], sessions["sessions"])


def test_published_wilson_interval_matches_its_closed_form(tables: dict[str, pl.DataFrame]):
    """Wilson (1927): (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)."""
    row = metric_row(tables, "response")
    n, p, z = row["denominator"], row["estimate"], 1.959963984540054
    centre, half = p + z * z / (2 * n), z * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5
    assert row["ci_low"] == pytest.approx((centre - half) / (1 + z * z / n))
    assert row["ci_high"] == pytest.approx((centre + half) / (1 + z * z / n))


def test_published_exact_poisson_interval_matches_garwood(tables: dict[str, pl.DataFrame]):
    """Garwood (1936): chi2(alpha/2, 2k)/2 and chi2(1-alpha/2, 2k+2)/2 events, per 100 sessions."""
    from scipy.stats import chi2

    row = metric_row(tables, "severe_hypertension")
    k, sessions = row["numerator"], row["denominator"]
    assert row["ci_low"] == pytest.approx(chi2.ppf(0.025, 2 * k) / 2 / sessions * 100)
    assert row["ci_high"] == pytest.approx(chi2.ppf(0.975, 2 * k + 2) / 2 / sessions * 100)


@pytest.mark.parametrize("cell", [{}, {"site": "K7-S01"}, {"indication": "TRD"}, {"period": "2023"}])
def test_published_kaplan_meier_at_4_and_8_weeks_matches_a_hand_computation(
        clinic: Settings, tables: dict[str, pl.DataFrame], cell: dict[str, str]):
    for metric, day in (("still_responding_4w", 28), ("still_responding_8w", 56)):
        row = metric_row(tables, metric, **cell)
        expected = expected_still_responding(clinic, day, **cell)
        if row["suppressed"]:
            continue
        assert row["estimate"] == pytest.approx(expected), (metric, cell)


CELLS = [{}, {"site": "K7-S01"}, {"site": "K7-S02"}, {"indication": "TRD"}, {"indication": "PTSD"},
         {"period": "2023"}, {"site": "K7-S03", "indication": "MDD"}, {"route": "IM"}]


@pytest.mark.parametrize("cell", CELLS)
def test_still_responding_is_withheld_unless_at_least_min_cell_size_responses_were_lost(
        clinic: Settings, tables: dict[str, pl.DataFrame], cell: dict[str, str]):
    """With the responders shown, 1 - S(t) gives the losses back, and S(8w) / S(4w) the losses in between: a
    share is hidden when it rests on 0-10 losses since the start, or since the previous share shown."""
    losses = expected_losses_by_day(clinic, **cell)
    before = 0
    for metric, day in (("still_responding_4w", 28), ("still_responding_8w", 56)):
        row = metric_row(tables, metric, **cell)
        lost = sum(1 for t in losses if t <= day)
        if lost - before < K:
            assert row["estimate"] is None, (metric, cell, lost, before)
            assert row["suppressed"], (metric, cell, lost, before)
        elif row["numerator"] is not None and row["denominator"] is not None:
            assert row["estimate"] is not None, (metric, cell, lost, before)
        if row["estimate"] is not None:
            before = lost


@pytest.mark.parametrize("cell", CELLS)
def test_every_step_of_a_published_curve_stands_for_at_least_min_cell_size_losses(
        clinic: Settings, tables: dict[str, pl.DataFrame], cell: dict[str, str]):
    """Curve points and the 4- and 8-week shares together: min_cell_size losses or more between any two."""
    key = {"site": "All", "indication": "All", "route": "All", "period": "All"} | cell
    curve = tables["durability_curves"].filter(*(pl.col(k) == v for k, v in key.items())).sort("week")
    if not cell:
        assert curve.height >= 3, "the whole clinic's curve should have several steps"
    weeks = set(curve["week"].to_list())
    for metric, week in (("still_responding_4w", 4), ("still_responding_8w", 8)):
        if metric_row(tables, metric, **cell)["estimate"] is not None:
            weeks.add(week)
    if not weeks:
        return
    losses = expected_losses_by_day(clinic, **cell)
    points = sorted(weeks)
    first = sum(1 for t in losses if t <= 7 * points[0])
    assert first == 0 or first >= K
    for before, after in zip(points, points[1:], strict=False):
        between = sum(1 for t in losses if 7 * before < t <= 7 * after)
        assert between >= K, (cell, before, after, between)
    assert curve["surv"].is_sorted(descending=True)


def test_published_response_for_a_site_and_year_matches_the_marts(clinic: Settings, tables: dict[str, pl.DataFrame]):
    cell = {"site": "K7-S02", "period": "2022"}
    courses = expected_course_counts(clinic, **cell)
    row = metric_row(tables, "response", **cell)
    assert row["denominator"] in (courses["evaluable"], None)
    if not row["suppressed"]:
        assert row["numerator"] == courses["responders"]


@pytest.mark.parametrize("week", [1, 4, 8])
def test_published_score_trajectory_matches_the_marts(clinic: Settings, tables: dict[str, pl.DataFrame], week: int):
    """Whole clinic, one week: courses scored that week and their mean % change from baseline, computed here in
    polars from the row-level marts (latest primary-instrument score of the week, per course)."""
    courses = pl.DataFrame(warehouse_rows(clinic, """
        SELECT patient_id, course_number, primary_baseline_score FROM marts.fct_courses
        WHERE primary_baseline_score IS NOT NULL
          AND (primary_not_evaluable_reason IS NULL OR primary_not_evaluable_reason = 'no_endpoint')"""),
        schema=["patient_id", "course_number", "baseline"], orient="row")
    scores = pl.DataFrame(warehouse_rows(clinic, """
        SELECT patient_id, course_number, assessed_on, assessment_id, total_score, days_since_first_session
        FROM marts.fct_assessment_scores WHERE is_primary"""),
        schema=["patient_id", "course_number", "assessed_on", "assessment_id", "score", "days"], orient="row")
    in_week = scores.filter((pl.col("days") > 7 * (week - 1)) & (pl.col("days") <= 7 * week))
    latest = in_week.sort("assessed_on", "assessment_id").group_by("patient_id", "course_number").last()
    change = latest.join(courses, on=["patient_id", "course_number"], how="inner").select(
        (pl.col("score") - pl.col("baseline")) / pl.col("baseline"))
    row = tables["score_trajectories"].filter(
        *(pl.col(c) == "All" for c in ("site", "indication", "route", "period")), pl.col("week") == week)
    assert row.height == 1
    assert row["courses"].item() == change.height >= K
    assert row["mean_pct_change"].item() == pytest.approx(100 * change.to_series().mean())


def test_a_small_cell_is_published_as_null_and_flagged(clinic: Settings, tables: dict[str, pl.DataFrame]):
    small = warehouse_rows(clinic, """
        SELECT site_id, indication, count(*) FROM marts.fct_courses WHERE course_number = 1
        GROUP BY ALL HAVING count(*) BETWEEN 1 AND 10 ORDER BY ALL LIMIT 1""")
    assert small, "the clinic has no small site x indication cell"
    site, indication, _ = small[0]
    row = metric_row(tables, "patients", site=site, indication=indication)
    assert row["numerator"] is None
    assert row["suppressed"]
    assert row["estimate"] is None


# ---- publishing ---------------------------------------------------------------------------------------------------

def test_publish_replaces_the_file_atomically_and_leaves_no_building_file(clinic: Settings, tmp_path: Path):
    mine = private_copy(clinic, tmp_path / "mine")
    before = os.stat(mine.published).st_ino
    (mine.published.parent / (mine.published.name + ".wal")).write_bytes(b"stale")  # a crashed writer's WAL
    reader = duckdb.connect()
    reader.execute("ATTACH ? AS old (READ_ONLY)", [str(mine.published)])
    summary = publish_aggregates(mine)
    assert os.stat(mine.published).st_ino != before
    assert sorted(p.name for p in mine.published.parent.iterdir()) == ["kow.duckdb", "published.duckdb"]
    # the open reader still sees the old, complete file; a new reader sees the new one
    assert reader.execute("SELECT count(*) FROM old.metrics").fetchone()[0] == summary.tables["metrics"]
    reader.close()
    assert summary.describe().startswith(f"Published {len(summary.tables)} aggregate tables to {mine.published}")
    assert summary.counts_suppressed > 0


def test_publish_leaves_the_old_file_when_building_fails(tmp_path: Path):
    target = tmp_path / "published.duckdb"
    with publish_atomically(target) as con:
        con.execute("CREATE TABLE marker AS SELECT 1 AS version")
    before = os.stat(target).st_ino
    def half_built() -> None:
        with publish_atomically(target) as con:
            con.execute("CREATE TABLE marker AS SELECT 2 AS version")
            raise RuntimeError("stopped half way")

    with pytest.raises(RuntimeError, match="half way"):
        half_built()
    assert os.stat(target).st_ino == before
    assert [p.name for p in tmp_path.iterdir()] == ["published.duckdb"]


def test_publish_refuses_a_warehouse_without_marts(tmp_path: Path):
    settings = resolve_settings(tmp_path / "kow.duckdb", environ={})
    duckdb.connect(str(settings.warehouse)).close()
    with pytest.raises(KowError, match="Run `kow build` first"):
        publish_aggregates(settings)
    assert not settings.published.exists()


def test_publish_refuses_a_missing_warehouse(tmp_path: Path):
    with pytest.raises(KowError, match="No warehouse"):
        publish_aggregates(resolve_settings(tmp_path / "none.duckdb", environ={}))


def test_publish_uses_the_min_cell_size_it_is_given(clinic: Settings, tmp_path: Path):
    mine = private_copy(clinic, tmp_path / "strict")
    publish_aggregates(mine, definitions=load_definitions({"min_cell_size": 30}))
    strict = published(mine)
    assert dict(zip(strict["about"]["name"], strict["about"]["value"], strict=True))["min_cell_size"] == "30"
    values = strict["metrics"]["numerator"].drop_nulls()
    assert values.len() > 0
    assert not (values < 30).any()


def test_publishing_the_same_data_twice_suppresses_the_same_cells(clinic: Settings, tables: dict[str, pl.DataFrame],
                                                                  tmp_path: Path):
    """Two patterns over one table could be combined to recover what each hides, so the choice is stable."""
    mine = private_copy(clinic, tmp_path / "again")
    publish_aggregates(mine)
    again = published(mine)["metrics"]
    columns = ["site", "indication", "route", "period", "month", "metric", "numerator", "denominator", "suppressed"]
    assert tables["metrics"].select(columns).equals(again.select(columns))


def add_analysis_tables(settings: Settings) -> None:
    """Model results as `kow analyze` writes them (analysis/tidy.py RATIOS_SCHEMA), plus columns that must not
    leave the warehouse (an id, a date) and a small count."""
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS analysis")
        con.execute("""
            CREATE OR REPLACE TABLE analysis.response_odds_ratios AS
            SELECT * FROM (VALUES
                ('route=IM', 'IV', 1.4::DOUBLE, 1.1::DOUBLE, 1.8::DOUBLE, 0.01::DOUBLE, 1200::BIGINT, 900::BIGINT,
                 'gee_logit', 'ok', 'K7-P0000001', DATE '2024-01-02'),
                ('route=ORAL', 'IV', 0.8::DOUBLE, 0.5::DOUBLE, 1.3::DOUBLE, 0.40::DOUBLE, 7::BIGINT, 7::BIGINT,
                 'gee_logit', 'ok', 'K7-P0000002', DATE '2024-02-03'))
            AS t(term, reference, ratio, ci_low, ci_high, p_value, observations, clusters, model, status, patient_id,
                 fitted_on)""")
    finally:
        con.close()


def test_publish_adds_analysis_results_without_ids_dates_or_small_counts(clinic: Settings, tmp_path: Path):
    mine = private_copy(clinic, tmp_path / "analysed")
    add_analysis_tables(mine)
    summary = publish_aggregates(mine)
    assert summary.analysis_tables == ("response_odds_ratios",)
    ratios = published(mine)["analysis_response_odds_ratios"]
    assert "patient_id" not in ratios.columns
    assert "fitted_on" not in ratios.columns
    assert ratios["observations"].to_list() == [1200, None]
    assert ratios["suppressed"].to_list() == [False, True]
    assert ratios["ratio"].to_list() == [1.4, 0.8]


def test_publish_works_from_the_marts_alone(tables: dict[str, pl.DataFrame]):
    assert not [name for name in tables if name.startswith("analysis_")]


def test_publish_uses_the_definitions_the_marts_were_built_with(clinic: Settings, tmp_path: Path):
    mine = private_copy(clinic, tmp_path / "built_with")
    con = duckdb.connect(str(mine.warehouse))
    try:
        if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts' "
                           "AND table_name = 'dim_definitions'").fetchone()[0]:
            pytest.skip("this build does not record its definitions (marts.dim_definitions)")
        con.execute("UPDATE marts.dim_definitions SET var_value = '25' WHERE var_name = 'min_cell_size'")
    finally:
        con.close()
    assert publish_aggregates(mine).min_cell_size == 25
    about = published(mine)["about"]
    assert dict(zip(about["name"], about["value"], strict=True))["min_cell_size"] == "25"


def test_publish_bands_doses_with_the_edges_the_marts_were_built_with(clinic: Settings, tmp_path: Path):
    mine = private_copy(clinic, tmp_path / "bands")
    con = duckdb.connect(str(mine.warehouse))
    try:  # as `kow build --vars '{"dose_band_edges_mg_per_kg": [0.5, 1.0]}'` records it
        con.execute("UPDATE marts.dim_definitions SET var_value = '[0.5, 1.0]' "
                    "WHERE var_name = 'dose_band_edges_mg_per_kg'")
    finally:
        con.close()
    publish_aggregates(mine)
    after = published(mine)
    assert set(after["dose_response"]["dose_band"].to_list()) == {"All", "<0.5", "0.5-<1", ">=1", "unknown"}
    about = dict(zip(after["about"]["name"], after["about"]["value"], strict=True))
    assert about["dose_band_edges_mg_per_kg"] == "0.5, 1"
