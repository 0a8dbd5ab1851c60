"""kow.api: cohorts and marts as polars DataFrames for notebooks, over a read-only connection."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from analysis.cohorts.run import run_cohort
from core.config import Settings
from core.definitions import load_definitions
from core.errors import KowError
from kow import api
from tests.cohorts.clinic import CLINIC_GROUP, REPOSITORY, private_copy, read_table

pytestmark = pytest.mark.xdist_group(CLINIC_GROUP)
TRD = REPOSITORY / "cohorts" / "trd_only.yaml"
MIN_CELL = load_definitions().min_cell_size


def test_load_cohort_returns_the_member_courses_with_patient_columns(clinic: Settings) -> None:
    courses = api.load_cohort(TRD, warehouse=clinic.warehouse)
    expected = read_table(clinic, "SELECT c.patient_id, c.course_number FROM marts.fct_courses c "
                                  "JOIN marts.dim_patients p USING (patient_id) WHERE p.indication = 'TRD'")
    assert isinstance(courses, pl.DataFrame)
    assert courses.select("patient_id", "course_number").sort("patient_id", "course_number").rows() == \
        expected.sort("patient_id", "course_number").rows()
    assert {"primary_responder", "completed_induction", "age_at_first_session", "sex"} <= set(courses.columns)
    assert (courses["indication"] == "TRD").all()


def test_load_cohort_accepts_a_dict_definition(clinic: Settings) -> None:
    courses = api.load_cohort({"name": "ptsd", "include": {"indication": ["PTSD"], "course_number": [1]}},
                              warehouse=clinic.warehouse)
    assert courses.height > 0
    assert (courses["course_number"] == 1).all()
    assert (courses["indication"] == "PTSD").all()


def test_read_mart_whole_or_for_a_cohort_and_only_known_marts(clinic: Settings) -> None:
    sessions = api.read_mart("fct_sessions", warehouse=clinic.warehouse)
    assert sessions.height == read_table(clinic, "SELECT count(*) AS n FROM marts.fct_sessions")["n"][0]
    mine = api.read_mart("fct_sessions", warehouse=clinic.warehouse, cohort=TRD)
    assert 0 < mine.height < sessions.height
    assert set(mine["indication"]) == {"TRD"}
    with pytest.raises(KowError, match="Unknown mart 'raw.patients'; row-level marts are: dim_patients"):
        api.read_mart("raw.patients", warehouse=clinic.warehouse)


def test_cohort_summary_and_attrition_match_the_run_files(clinic: Settings, tmp_path: Path) -> None:
    run_cohort(TRD, clinic, tmp_path)
    summary = api.cohort_summary(TRD, warehouse=clinic.warehouse)
    written = pl.read_csv(tmp_path / "summary.csv", schema_overrides={"count": pl.String, "denominator": pl.String,
                                                                      "instrument": pl.String})
    assert summary.select("measure", "stratum", "source", "count", "denominator").rows() == \
        written.select("measure", "stratum", "source", "count", "denominator").rows()
    attrition = api.cohort_attrition(TRD, warehouse=clinic.warehouse)
    assert attrition.drop("description").rows() == pl.read_csv(tmp_path / "attrition.csv").drop("description").rows()


def test_cohort_summary_by_site_adds_up_and_exact_counts_on_request(clinic: Settings) -> None:
    exact = api.cohort_summary(TRD, warehouse=clinic.warehouse, group_by="site", suppressed=False)
    courses = exact.filter(pl.col("measure") == "courses")
    total = int(courses.filter(pl.col("group") == "All")["count"][0])
    assert set(courses["group_by"]) == {"all", "site"}
    assert sum(int(v) for v in courses.filter(pl.col("group_by") == "site")["count"]) == total
    assert "<" not in "".join(exact["count"].drop_nulls())
    with pytest.raises(KowError, match="group_by must be one of"):
        api.cohort_summary(TRD, warehouse=clinic.warehouse, group_by="region")


def test_compare_cohorts_and_durability_curve(clinic: Settings) -> None:
    table = api.compare_cohorts(TRD, {"name": "mdd", "include": {"indication": ["MDD"]}}, warehouse=clinic.warehouse)
    assert table.filter(pl.col("measure") == "response")["status"].to_list() == ["ok"]
    curve = api.durability_curve(TRD, warehouse=clinic.warehouse)
    assert curve.columns == ["group", "day", "still_responding"]
    assert curve.height > 5
    assert (curve["still_responding"].diff().drop_nulls() <= 0).all()
    durability = read_table(clinic, "SELECT d.days_to_event FROM marts.fct_durability d JOIN marts.dim_patients p "
                                    "USING (patient_id) WHERE d.is_primary AND p.indication = 'TRD'")
    last_day = int(curve["day"].max())
    assert (durability["days_to_event"] >= last_day).sum() >= MIN_CELL  # cut where too few remain at risk
    # every step of the published curve stands for MIN_CELL losses or more (none shows a single loss or a zero)
    members = api.load_cohort(TRD, warehouse=clinic.warehouse).select("patient_id", "course_number")
    lost = read_table(clinic, "SELECT patient_id, course_number, days_to_event FROM marts.fct_durability "
                              "WHERE is_primary AND lost_response").join(members, on=["patient_id", "course_number"])
    days = sorted(lost["days_to_event"].to_list())
    points = curve.filter(pl.col("group") == "All")["day"].to_list()
    assert len(points) >= 2
    assert sum(1 for t in days if t <= points[0]) >= MIN_CELL
    for before, after in zip(points, points[1:], strict=False):
        assert sum(1 for t in days if before < t <= after) >= MIN_CELL, (before, after)


def test_api_releases_the_warehouse_after_each_call(clinic: Settings, tmp_path: Path) -> None:
    copy = private_copy(clinic, tmp_path)
    api.cohort_summary(TRD, warehouse=copy.warehouse)
    api.load_cohort(TRD, warehouse=copy.warehouse)
    writer = duckdb.connect(str(copy.warehouse))  # would fail while a reader held the file
    writer.close()
