"""kow generate: a synthetic clinic that obeys the source contract and plants what truth.json says.

The truth checks recompute definitions.md from the written files with a separate implementation
(independent_definitions.py). Intervals: exact binomial for response rates, exact (Garwood, chi-square)
Poisson intervals for event counts, both at 99.9% so a correct generator fails about 1 run in 1,000
per comparison at most; the seeds are fixed, so a run is repeatable.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
import pytest
from scipy import stats

from core.config import resolve_settings
from core.definitions import load_definitions, load_event_terms, load_instruments
from core.errors import KowError
from ingest.contract import contract
from ingest.generate import generate_clinic
from ingest.identifiers import RESTRICTED_ZIP3, US_STATE_CODES, VALUE_PATTERNS
from ingest.load import load_source
from tests.ingest.independent_definitions import course_outcomes, indication_of, read_source

LAST_DATE = dt.date(2025, 10, 31)
ID_SHAPE = re.compile(r"K[0-9A-Z]+-[SPVAE][0-9]{2,8}")
TABLE_FILES = ("sites", "patients", "sessions", "assessments", "adverse_events")
CONFIDENCE = 0.999


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clinic") / "source"
    generate_clinic(folder, patients=3000, seed=11)
    return folder


@pytest.fixture(scope="module")
def source(clinic: Path) -> dict[str, pl.DataFrame]:
    return read_source(clinic)


@pytest.fixture(scope="module")
def measured(clinic: Path, source: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Independent outcomes joined to what the generator says it planted, course by course."""
    truth = pl.read_parquet(clinic / "truth_courses.parquet")
    return course_outcomes(source).join(truth, on=["patient_id", "course_number"], how="full", suffix="_truth")


def contract_problems(source: dict[str, pl.DataFrame], folder: Path) -> list[str]:
    """Every way the files break source-contract.md (empty when they obey it)."""
    problems = []
    for table in contract():
        frame = source[table.name]
        csv = folder / f"{table.name}.csv"
        if csv.exists() and csv.open(encoding="utf-8").readline().strip().split(",") != list(table.column_names):
            problems.append(f"{table.name}: header differs from the contract")
        for column in table.columns:
            values = frame[column.name]
            where = f"{table.name}.{column.name}"
            if column.required and values.null_count():
                problems.append(f"{where}: missing required values")
            if column.unique and values.n_unique() != frame.height:
                problems.append(f"{where}: duplicates")
            parent = source[column.references[0]][column.references[1]] if column.references else None
            if parent is not None and not values.is_in(parent.implode()).all():
                problems.append(f"{where}: dangling reference")
            if column.minimum is not None and (values < column.minimum).any() or (
                    column.exclusive_minimum and (values <= column.minimum).any()):
                problems.append(f"{where}: below minimum")
            if column.maximum is not None and (values > column.maximum).any():
                problems.append(f"{where}: above maximum")
            if column.vocabulary and not values.drop_nulls().is_in(column.vocabulary).all():
                problems.append(f"{where}: outside the controlled list")
            if column.kind == "date" and (values > LAST_DATE).any():
                problems.append(f"{where}: after {LAST_DATE}")
            if column.kind == "text" and column.vocabulary is None:
                for rule, pattern in VALUE_PATTERNS.items():
                    if values.drop_nulls().str.contains(pattern).any():
                        problems.append(f"{where}: {rule}")
            if column.name.endswith("_id") and not values.str.contains(f"^{ID_SHAPE.pattern}$").all():
                problems.append(f"{where}: id not shaped like K<code>-<letter><digits>")
    patients = source["patients"]
    zip3 = patients["zip3"].drop_nulls()
    if not zip3.str.contains(r"^[0-9]{3}$").all() or zip3.is_in(RESTRICTED_ZIP3).any():
        problems.append("patients.zip3: not 3 digits, or a restricted prefix")
    ages = patients["age_at_first_session"].drop_nulls()
    if ages.min() < 18 or ages.max() > 90:
        problems.append("patients.age_at_first_session: outside 18..90")
    if not source["sites"]["region"].is_in(US_STATE_CODES).all():
        problems.append("sites.region: not a US state code")
    scores = source["assessments"]
    for name, instrument in load_instruments().items():
        got = scores.filter(pl.col("instrument") == name)["total_score"]
        if got.len() and (got.min() < instrument.score_min or got.max() > instrument.score_max
                          or (got != got.round()).any()):
            problems.append(f"assessments: {name} score outside its range or not whole")
    if scores.select("patient_id", "instrument", "assessed_on").is_duplicated().any():
        problems.append("assessments: two scores of one instrument on one date for a patient")
    return problems


def test_generated_files_obey_the_source_contract(clinic, source):
    assert contract_problems(source, clinic) == []
    dx = source["patients"]["primary_dx_icd10"]
    assert dx.str.contains(r"\.").any()  # with the dot ...
    assert (~dx.str.contains(r"\.")).any()  # ... and without
    assert (dx != dx.str.to_uppercase()).any()  # some lower case
    assert (source["patients"]["zip3"] == "000").any()


def test_generate_same_seed_writes_identical_bytes(tmp_path):
    for fmt in ("csv", "parquet"):
        first = generate_clinic(tmp_path / f"a_{fmt}", patients=300, seed=5, fmt=fmt).out_dir
        again = generate_clinic(tmp_path / f"b_{fmt}", patients=300, seed=5, fmt=fmt).out_dir
        names = sorted(p.name for p in first.iterdir())
        assert names == sorted(p.name for p in again.iterdir())
        assert len(names) == 7  # five tables, truth.json, truth_courses.parquet
        for name in names:
            assert (first / name).read_bytes() == (again / name).read_bytes(), name


def test_generate_different_seeds_give_different_data_and_disjoint_ids(tmp_path):
    one = read_source(generate_clinic(tmp_path / "one", patients=300, seed=5).out_dir)
    two = read_source(generate_clinic(tmp_path / "two", patients=300, seed=6).out_dir)
    for table in contract():
        key = table.key.name
        assert not set(one[table.name][key]) & set(two[table.name][key]), table.name
    assert one["sessions"].drop("session_id", "patient_id").to_dicts() != \
        two["sessions"].drop("session_id", "patient_id").to_dicts()


def test_generate_one_patient_writes_a_loadable_source(tmp_path):
    summary = generate_clinic(tmp_path / "one", patients=1, seed=0, sites=1)
    source = read_source(summary.out_dir)
    assert source["patients"]["patient_id"].to_list() == ["K0-P0000001"]
    assert source["sessions"].height >= 1
    assert contract_problems(source, summary.out_dir) == []
    loaded = load_source(summary.out_dir, resolve_settings(tmp_path / "kow.duckdb", environ={}))
    assert loaded.outcome == "loaded"
    assert loaded.rows["patients"] == 1


def test_parquet_output_has_the_same_content_as_csv(tmp_path):
    as_csv = read_source(generate_clinic(tmp_path / "csv", patients=400, seed=9).out_dir)
    as_parquet_dir = generate_clinic(tmp_path / "parquet", patients=400, seed=9, fmt="parquet").out_dir
    for name in TABLE_FILES:
        assert not (as_parquet_dir / f"{name}.csv").exists()
    as_parquet = read_source(as_parquet_dir)
    for name in TABLE_FILES:
        assert as_csv[name].equals(as_parquet[name]), name
    sessions = pl.read_parquet_schema(as_parquet_dir / "sessions.parquet")
    assert (sessions["session_date"], sessions["sbp_max"], sessions["dose_mg"], sessions["completed"]) == (
        pl.Date, pl.Int32, pl.Float64, pl.Boolean)


def test_generate_into_a_used_folder_replaces_the_other_format(tmp_path):
    folder = tmp_path / "source"
    generate_clinic(folder, patients=50, seed=3, fmt="parquet")
    generate_clinic(folder, patients=60, seed=3, fmt="csv")
    tables = sorted(p.name for p in folder.iterdir() if p.stem in TABLE_FILES)
    assert tables == [f"{t}.csv" for t in sorted(TABLE_FILES)]
    assert read_source(folder)["patients"].height == 60


def test_generate_reports_progress_for_every_patient(tmp_path):
    steps: list[int] = []
    generate_clinic(tmp_path / "source", patients=120, seed=1, on_progress=steps.append)
    assert sum(steps) == 120


@pytest.mark.parametrize(("arguments", "message"), [
    ({"patients": 0, "seed": 1}, "--patients"), ({"patients": 5, "seed": -1}, "--seed"),
    ({"patients": 5, "seed": 1, "sites": 0}, "--sites"), ({"patients": 5, "seed": 1, "fmt": "xlsx"}, "--format"),
])
def test_generate_refuses_bad_arguments(tmp_path, arguments, message):
    with pytest.raises(KowError, match=message):
        generate_clinic(tmp_path / "source", **arguments)


def test_truth_json_has_the_planted_expectations(clinic, source):
    truth = json.loads((clinic / "truth.json").read_text(encoding="utf-8"))
    assert {"seed", "patients", "response_rate_by_indication", "ae_rate_per_100_sessions",
            "remission_rate_by_indication", "durability", "severe_hypertension", "generator_version",
            "rows", "response_model"} <= set(truth)
    assert (truth["seed"], truth["patients"]) == (11, 3000)
    assert set(truth["ae_rate_per_100_sessions"]) == set(load_event_terms())
    assert {"TRD", "MDD", "PTSD", "ANXIETY", "CHRONIC_PAIN"} <= set(truth["response_rate_by_indication"])
    assert truth["rows"] == {name: source[name].height for name in TABLE_FILES}


def test_independent_definitions_measure_exactly_the_planted_flags(measured):
    assert measured["patient_id"].null_count() == 0  # every measured course was planted ...
    assert measured["patient_id_truth"].null_count() == 0  # ... and every planted course is measured
    for column in ("indication", "primary_instrument", "evaluable", "not_evaluable_reason", "endpoint_date"):
        assert measured.filter(pl.col(column).ne_missing(pl.col(f"{column}_truth"))).height == 0, column
    evaluable = measured.filter(pl.col("evaluable"))
    assert evaluable.height > 1500
    assert (evaluable["responder"] == evaluable["planted_responder"]).all()
    assert (evaluable["remitter"] == evaluable["remitter_truth"]).all()
    # both primary-instrument branches occur: MADRS where rated at both ends, PHQ-9 otherwise
    depression = evaluable.filter(pl.col("indication").is_in(["TRD", "MDD"]))
    assert set(depression["primary_instrument"]) == {"MADRS", "PHQ9"}
    assert set(measured["not_evaluable_reason"].drop_nulls()) == {"no_baseline", "below_min_baseline", "no_endpoint"}


def test_response_rate_per_indication_lies_within_a_binomial_interval_of_truth(clinic, measured):
    truth = json.loads((clinic / "truth.json").read_text(encoding="utf-8"))["response_rate_by_indication"]
    by_indication = measured.filter(pl.col("evaluable")).group_by("indication").agg(
        courses=pl.len(), responders=pl.col("responder").sum())
    checked = 0
    for row in by_indication.filter(pl.col("courses") >= 100).iter_rows(named=True):
        low, high = stats.binom.interval(CONFIDENCE, row["courses"], truth[row["indication"]])
        assert low <= row["responders"] <= high, row
        checked += 1
    assert checked >= 5


def _poisson_interval(count: int) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson mean from an observed count."""
    alpha = 1 - CONFIDENCE
    low = stats.chi2.ppf(alpha / 2, 2 * count) / 2 if count else 0.0
    return low, stats.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2


def test_event_rates_lie_within_exact_poisson_intervals_of_truth(clinic, source):
    truth = json.loads((clinic / "truth.json").read_text(encoding="utf-8"))
    sessions = source["sessions"].height
    counts = dict(source["adverse_events"].group_by("event_term").len().iter_rows())
    for term, rate in truth["ae_rate_per_100_sessions"].items():
        low, high = _poisson_interval(counts.get(term, 0))
        assert low <= rate * sessions / 100 <= high, term
    d = load_definitions()
    crossed = {
        "hypertension": (pl.col("sbp_max") >= d.derived_hypertension_sbp_mmhg)
        | (pl.col("dbp_max") >= d.derived_hypertension_dbp_mmhg),
        "desaturation": pl.col("spo2_min") < d.derived_desaturation_spo2_pct,
    }
    for term, condition in crossed.items():
        reported = source["adverse_events"].filter(pl.col("event_term") == term)["session_id"]
        derived = source["sessions"].filter(condition & ~pl.col("session_id").is_in(reported.implode())).height
        low, high = _poisson_interval(derived)
        assert low <= truth["derived_only_event_rate_per_100_sessions"][term] * sessions / 100 <= high, term


def test_responders_keep_response_until_the_planted_relapse_then_lose_it(source, measured):
    d = load_definitions()
    courses = measured.sort("patient_id", "course_number").with_columns(
        next_course=pl.col("first_session_date").shift(-1).over("patient_id"))
    responders = courses.filter(pl.col("evaluable") & pl.col("responder"))
    follow = responders.join(source["assessments"], left_on=["patient_id", "primary_instrument"],
                             right_on=["patient_id", "instrument"]).filter(
        (pl.col("assessed_on") > pl.col("endpoint_date"))
        & (pl.col("next_course").is_null() | (pl.col("assessed_on") < pl.col("next_course"))))
    above = follow["total_score"] > (1 - d.response_reduction) * follow["baseline"]
    lost = (follow["assessed_on"] - follow["endpoint_date"]).dt.total_days() >= follow["planted_relapse_days"]
    assert follow.height > 1000
    assert (above == lost).all()
    assert lost.any()
    assert (~lost).any()


def test_generated_clinic_looks_like_a_ketamine_clinic(source, measured):
    sessions, patients = source["sessions"], source["patients"]
    indications = patients.select(pl.struct("primary_dx_icd10", "prior_failed_treatments").map_elements(
        lambda r: indication_of(r["primary_dx_icd10"], r["prior_failed_treatments"]), return_dtype=pl.String))
    assert indications.to_series().mode().to_list() == ["TRD"]
    assert 0.70 < (sessions["route"] == "IV").mean() < 0.80
    iv = sessions.filter(pl.col("route") == "IV").drop_nulls("sbp_max")
    assert 13 < (iv["sbp_max"] - iv["sbp_pre"]).mean() < 19  # Yale 2024: mean rise ~16 mmHg
    assert 0.003 < ((iv["sbp_max"] >= 180) | (iv["dbp_max"] >= 110)).mean() < 0.02  # ~1% of infusions
    stopped = (measured["sessions"] < load_definitions().induction_sessions).mean()
    assert 0.35 < stopped < 0.60  # about half stop early (Sakurai 2020)
    assert 0.12 < (measured["course_number"] == 2).sum() / patients.height < 0.25
    assert 0.01 < (~sessions["completed"]).mean() < 0.06


def test_two_generated_clinics_load_into_one_warehouse(tmp_path, clinic):
    settings = resolve_settings(tmp_path / "kow.duckdb", environ={})
    other = generate_clinic(tmp_path / "other", patients=200, seed=12, fmt="parquet").out_dir
    first = load_source(clinic, settings)
    second = load_source(other, settings)
    assert (first.outcome, second.outcome) == ("loaded", "loaded")
    assert second.replaced == ()
    assert first.rows["patients"] + second.rows["patients"] == 3200
