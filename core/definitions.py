"""Clinical definitions as data: dbt vars from dbt_project.yml and the seeds an analyst edits.

Python reads thresholds only through this module, so the dbt models, the generator, ingest and the
analyses never disagree about a number (see ../shared/spec/definitions.md).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
SEEDS_DIR = PROJECT_DIR / "seeds"


@dataclass(frozen=True)
class Definitions:
    """The dbt vars of dbt_project.yml, typed; field names are the var names of definitions.md."""

    course_gap_days: int
    induction_sessions: int
    induction_window_days: int
    baseline_window_days: int
    endpoint_window_days: int
    response_reduction: float
    relapse_consecutive: int
    derived_hypertension_sbp_mmhg: int
    derived_hypertension_dbp_mmhg: int
    derived_desaturation_spo2_pct: int
    min_cell_size: int
    alpha: float
    serious_grade_min: int
    dose_band_edges_mg_per_kg: tuple[float, ...]

    def with_overrides(self, overrides: Mapping[str, Any]) -> Definitions:
        known = {f.name: f.type for f in fields(self)}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            from core.errors import KowError

            raise KowError(f"Unknown definition var(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}.")
        cast = {k: _typed(known[k], v) for k, v in overrides.items()}
        return replace(self, **cast)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _typed(kind: object, value: Any) -> Any:
    """A var's value as its field's type; lists may come as YAML text (marts.dim_definitions stores text).
    Raises KowError for a value that is not one (a user's --vars, never a traceback)."""
    from core.errors import KowError

    try:
        if kind in ("float", "int"):
            number = float(value)
            if not math.isfinite(number) or (kind == "int" and not number.is_integer()):
                raise ValueError(value)
            return number if kind == "float" else int(number)
        items = yaml.safe_load(value) if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise ValueError(value)
        numbers = tuple(float(v) for v in items)
        if not all(math.isfinite(v) for v in numbers):
            raise ValueError(value)
        return numbers
    except (TypeError, ValueError, yaml.YAMLError) as exc:
        wanted = {"float": "a number", "int": "a whole number"}.get(str(kind), "a list of numbers")
        raise KowError(f"Expected {wanted}, got {value!r}.") from exc


@dataclass(frozen=True)
class Instrument:
    instrument: str
    score_min: float
    score_max: float
    min_baseline: float
    remission_max: float
    loinc_code: str | None


@cache
def _project_vars() -> dict[str, Any]:
    with (PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh)["vars"])


def load_definitions(overrides: Mapping[str, Any] | None = None) -> Definitions:
    """The definitions in force: dbt_project.yml's vars, with any overrides applied."""
    names = {f.name for f in fields(Definitions)}
    shipped = {k: v for k, v in _project_vars().items() if k in names}
    shipped["dose_band_edges_mg_per_kg"] = tuple(shipped["dose_band_edges_mg_per_kg"])
    base = Definitions(**shipped)
    return base.with_overrides(overrides) if overrides else base


def _read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@cache
def load_instruments() -> dict[str, Instrument]:
    """Instruments by name, from seeds/instruments.csv."""
    return {
        row["instrument"]: Instrument(
            instrument=row["instrument"],
            score_min=float(row["score_min"]),
            score_max=float(row["score_max"]),
            min_baseline=float(row["min_baseline"]),
            remission_max=float(row["remission_max"]),
            loinc_code=row["loinc_code"] or None,
        )
        for row in _read_seed("instruments")
    }


@cache
def load_event_terms() -> tuple[str, ...]:
    """The controlled list of adverse-event terms, from seeds/event_terms.csv."""
    return tuple(row["event_term"] for row in _read_seed("event_terms"))


@cache
def load_indication_rules() -> tuple[dict[str, str], ...]:
    """ICD-10 prefix -> indication rules, from seeds/icd10_indications.csv."""
    return tuple(_read_seed("icd10_indications"))


@cache
def load_primary_instruments() -> dict[str, tuple[str, ...]]:
    """Indication -> instruments in order of preference, from seeds/primary_instruments.csv."""
    out: dict[str, list[tuple[int, str]]] = {}
    for row in _read_seed("primary_instruments"):
        out.setdefault(row["indication"], []).append((int(row["preference"]), row["instrument"]))
    return {k: tuple(i for _, i in sorted(v)) for k, v in out.items()}
