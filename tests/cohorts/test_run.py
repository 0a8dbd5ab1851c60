"""run_cohort end to end on the shared generated clinic: files, attrition, members, summary values."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.cohorts.run import OUTPUT_FILES, run_cohort
from analysis.marts import MartsMissingError
from core.config import Settings, resolve_settings
from core.definitions import load_definitions
from kow.api import cohort_summary
from tests.cohorts.clinic import CLINIC_GROUP, REPOSITORY, read_table

pytestmark = pytest.mark.xdist_group(CLINIC_GROUP)
COHORTS = REPOSITORY / "cohorts"
MIN_CELL = load_definitions().min_cell_size


def _courses(clinic: Settings) -> pl.DataFrame:
    """Courses with patient attributes, read independently of analysis/cohorts (patient-level indication)."""
    return read_table(clinic, """
        SELECT c.*, p.indication AS patient_indication, p.age_at_first_session, p.sex, p.substance_use_history,
               p.primary_dx_icd10, r.baseline_score AS phq9_baseline
        FROM marts.fct_courses c JOIN marts.dim_patients p USING (patient_id)
        LEFT JOIN marts.fct_response r ON r.patient_id = c.patient_id AND r.course_number = c.course_number
             AND r.instrument = 'PHQ9'""")


def _row(summary: pl.DataFrame, measure: str, stratum: str = "All", source: str = "All") -> dict:
    return summary.filter((pl.col("group") == "All") & (pl.col("measure") == measure) & (pl.col("stratum") == stratum)
                          & (pl.col("source") == source)).row(0, named=True)


def test_run_cohort_trd_only_members_are_exactly_the_trd_courses(clinic: Settings, tmp_path: Path) -> None:
    summary = run_cohort(COHORTS / "trd_only.yaml", clinic, tmp_path / "out")
    members = pl.read_parquet(tmp_path / "out" / "members.parquet")
    expected = _courses(clinic).filter(pl.col("patient_indication") == "TRD").select("patient_id", "course_number")
    assert members.columns == ["patient_id", "course_number"]
    assert members.sort("patient_id", "course_number").rows() == expected.sort("patient_id", "course_number").rows()
    assert summary.courses == expected.height > 100
    assert summary.patients == expected["patient_id"].n_unique()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(OUTPUT_FILES)
    assert "trd_only" in summary.describe()
    assert "response" in summary.describe()


def test_run_cohort_attrition_matches_an_independent_count(clinic: Settings, tmp_path: Path) -> None:
    definition = tmp_path / "many.yaml"
    definition.write_text("""\
name: many
include:
  indication: [TRD, MDD, PTSD]
  route: [IV, INTRANASAL]
  age: {min: 21, max: 75}
  first_session_date: {from: 2019-01-01}
  min_sessions: 2
  baseline_score: {instrument: PHQ9, min: 12}
exclude:
  sex: [unknown]
  substance_use_history: true
  primary_dx_prefix: [F43.1]
  course_number: {min: 3}
""")
    run_cohort(definition, clinic, tmp_path / "out")
    attrition = pl.read_csv(tmp_path / "out" / "attrition.csv")
    c = pl.col
    steps = [
        c("patient_indication").is_in(["TRD", "MDD", "PTSD"]), c("first_session_route").is_in(["IV", "INTRANASAL"]),
        c("age_at_first_session").is_between(21, 75), c("first_session_date") >= pl.date(2019, 1, 1),
        c("sessions") >= 2, c("phq9_baseline") >= 12,
        ~(c("sex") == "unknown").fill_null(False), ~c("substance_use_history").fill_null(False),
        ~c("primary_dx_icd10").str.starts_with("F431").fill_null(False), ~(c("course_number") >= 3).fill_null(False),
    ]
    frame = _courses(clinic)
    expected = [(frame["patient_id"].n_unique(), frame.height)]
    for condition in steps:
        frame = frame.filter(condition.fill_null(False))
        expected.append((frame["patient_id"].n_unique(), frame.height))
    criteria = attrition.filter(c("stage") != "outcome")
    assert list(zip(criteria["patients"], criteria["courses"], strict=True)) == expected
    assert criteria["description"][1] == "include indication in TRD, MDD, PTSD"
    # outcome steps follow, counted from fct_courses' reason (definitions.md order)
    reason = frame["primary_not_evaluable_reason"]
    outcome = attrition.filter(c("stage") == "outcome")
    assert outcome["courses"].to_list() == [
        int((reason.fill_null("") != "no_baseline").sum()),
        int((~reason.is_in(["no_baseline", "below_min_baseline"])).fill_null(True).sum()),
        int(frame["primary_evaluable"].sum())]
    assert (attrition["courses_removed"][1:] == -attrition["courses"].diff()[1:]).all()


def test_run_cohort_summary_values_match_the_marts(clinic: Settings, tmp_path: Path) -> None:
    run_cohort(COHORTS / "trd_only.yaml", clinic, tmp_path / "out")
    summary = pl.read_csv(tmp_path / "out" / "summary.csv", schema_overrides={"count": pl.String,
                                                                               "denominator": pl.String})
    trd = _courses(clinic).filter(pl.col("patient_indication") == "TRD")
    evaluable = trd.filter(pl.col("primary_evaluable"))
    responders = int(evaluable["primary_responder"].sum())
    alpha = load_definitions().alpha
    response = _row(summary, "response")
    assert (response["count"], response["denominator"]) == (str(responders), str(evaluable.height))
    low, high = proportion_confint(responders, evaluable.height, alpha=alpha, method="wilson")
    assert response["estimate"] == pytest.approx(responders / evaluable.height)
    assert (response["ci_low"], response["ci_high"]) == pytest.approx((low, high))
    assert _row(summary, "courses")["count"] == str(trd.height)
    # adverse events per 100 sessions: every session of the member courses, exact (chi-square) Garwood limits
    keys = trd.select("patient_id", "course_number")
    sessions = int(trd["sessions"].sum())
    events = read_table(clinic, "SELECT patient_id, course_number FROM marts.fct_adverse_events").join(
        keys, on=["patient_id", "course_number"], how="semi").height
    rate = _row(summary, "ae_rate")
    assert (rate["count"], rate["denominator"]) == (str(events), str(sessions))
    garwood = (stats.chi2.ppf(alpha / 2, 2 * events) / 2, stats.chi2.ppf(1 - alpha / 2, 2 * events + 2) / 2)
    expected_limits = (100 * garwood[0] / sessions, 100 * garwood[1] / sessions)
    assert (rate["ci_low"], rate["ci_high"]) == pytest.approx(expected_limits)
    # Kaplan-Meier at day 28 by a product-limit computed here from fct_durability
    durability = read_table(clinic, "SELECT patient_id, course_number, days_to_event, lost_response "
                                    "FROM marts.fct_durability WHERE is_primary").join(
        keys, on=["patient_id", "course_number"], how="semi")
    survival = 1.0
    for day in sorted(set(durability.filter(pl.col("lost_response"))["days_to_event"].to_list())):
        if day > 28:
            break
        at_risk = durability.filter(pl.col("days_to_event") >= day).height
        lost = durability.filter((pl.col("days_to_event") == day) & pl.col("lost_response")).height
        survival *= 1 - lost / at_risk
    assert _row(summary, "still_responding", "day 28")["estimate"] == pytest.approx(survival)
    assert _row(summary, "still_responding", "day 28")["denominator"] == str(responders)


def test_run_cohort_summary_suppresses_small_counts(clinic: Settings, tmp_path: Path) -> None:
    run_cohort(COHORTS / "ptsd_recent.yaml", clinic, tmp_path / "out")
    summary = pl.read_csv(tmp_path / "out" / "summary.csv", schema_overrides={"count": pl.String,
                                                                               "denominator": pl.String})
    shown = [v for v in summary["count"].to_list() + summary["denominator"].to_list() if v is not None]
    numbers = [int(v) for v in shown if v.isdigit()]
    assert numbers, "nothing shown: the test proves nothing"
    assert all(n >= MIN_CELL for n in numbers)  # zero included: definitions.md says any count below 11
    assert set(v for v in shown if not v.isdigit()) <= {f"<{MIN_CELL}", "suppressed"}
    hidden = summary.filter(pl.col("count").is_in([f"<{MIN_CELL}", "suppressed"])
                            | pl.col("denominator").is_in([f"<{MIN_CELL}", "suppressed"]))
    assert hidden.height > 0
    assert hidden["estimate"].is_null().all()
    assert (hidden["status"] == "suppressed").all()
    # no shown share lets a small complement be recomputed (evaluable - responders)
    pairs = summary.filter(pl.col("unit") == "proportion").filter(
        pl.col("count").str.contains(r"^\d+$") & pl.col("denominator").str.contains(r"^\d+$"))
    gaps = (pairs["denominator"].cast(pl.Int64) - pairs["count"].cast(pl.Int64)).to_list()
    assert all(g >= MIN_CELL for g in gaps)


def test_cohort_summary_by_indication_lists_every_indication_members_or_not(clinic: Settings) -> None:
    """A group left out would read as zero courses: TRD only, by indication, still lists PTSD, suppressed."""
    seeded = set(read_table(clinic, "SELECT DISTINCT indication FROM seeds.icd10_indications")["indication"])
    summary = cohort_summary(COHORTS / "trd_only.yaml", warehouse=clinic.warehouse, group_by="indication")
    courses = summary.filter(pl.col("measure") == "courses")
    assert set(courses.filter(pl.col("group_by") == "indication")["group"].to_list()) == seeded
    others = courses.filter((pl.col("group_by") == "indication") & (pl.col("group") != "TRD"))
    assert others.height == len(seeded) - 1
    assert set(others["count"].to_list()) == {f"<{MIN_CELL}"}


def test_run_cohort_named_outcome_instrument_counts_that_instrument(clinic: Settings, tmp_path: Path) -> None:
    run_cohort(COHORTS / "depression_madrs.yaml", clinic, tmp_path / "out")
    members = pl.read_parquet(tmp_path / "out" / "members.parquet")
    madrs = read_table(clinic, "SELECT * FROM marts.fct_response WHERE instrument = 'MADRS'").join(
        members, on=["patient_id", "course_number"], how="semi")
    assert madrs.height == members.height  # every member has a MADRS baseline of 20 or more
    assert (madrs["baseline_score"] >= 20).all()
    summary = pl.read_csv(tmp_path / "out" / "summary.csv", schema_overrides={"count": pl.String,
                                                                               "denominator": pl.String})
    response = _row(summary, "response")
    assert response["instrument"] == "MADRS"
    assert response["denominator"] == str(int(madrs["evaluable"].sum()))
    assert response["count"] == str(int(madrs["responder"].sum()))


def test_run_cohort_report_is_self_contained_and_escapes_text(clinic: Settings, tmp_path: Path) -> None:
    definition = tmp_path / "d.yaml"
    definition.write_text("name: escaped\ndescription: \"<script>alert(1)</script>\"\ninclude:\n  indication: [TRD]\n")
    run_cohort(definition, clinic, tmp_path / "out")
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 4  # attrition, shares, Kaplan-Meier, events


def test_run_cohort_warns_about_values_that_match_no_course(clinic: Settings, tmp_path: Path) -> None:
    definition = tmp_path / "typo.yaml"
    definition.write_text("name: typo\ninclude:\n  route: [IV, INTRA_NASAL]\n")
    summary = run_cohort(definition, clinic, tmp_path / "out")
    assert summary.warnings == ("include.route (line 3): no course has INTRA_NASAL",)
    assert "Warning: include.route (line 3)" in summary.describe()


def test_run_cohort_empty_cohort_suppresses_its_zero_counts(clinic: Settings, tmp_path: Path) -> None:
    """definitions.md: any count below min_cell_size is suppressed when exported, zero included."""
    definition = tmp_path / "none.yaml"
    definition.write_text("name: none\ninclude:\n  site: [no-such-site]\n")
    summary = run_cohort(definition, clinic, tmp_path / "out")
    assert (summary.courses, summary.patients) == (0, 0)
    table = pl.read_csv(tmp_path / "out" / "summary.csv", schema_overrides={"count": pl.String})
    assert _row(table, "courses")["count"] == "<11"
    assert _row(table, "response")["status"] == "suppressed"


def test_run_cohort_without_marts_is_a_user_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(MartsMissingError, match="Run `kow build` first"):
        run_cohort(COHORTS / "trd_only.yaml", resolve_settings(empty, environ={}), tmp_path / "out")
    with pytest.raises(MartsMissingError, match="No warehouse at"):
        run_cohort(COHORTS / "trd_only.yaml", resolve_settings(tmp_path / "absent.duckdb", environ={}), tmp_path)
    assert not np.any([p.name == "summary.csv" for p in tmp_path.iterdir()])


@pytest.mark.parametrize("path", sorted(COHORTS.glob("*.yaml")), ids=lambda p: p.stem)
def test_run_cohort_every_example_definition_runs(clinic: Settings, tmp_path: Path, path: Path) -> None:
    summary = run_cohort(path, clinic, tmp_path / "out")
    assert summary.courses > 0
    assert not summary.warnings
