"""Source contract v1 (../shared/spec/source-contract.md) as data: tables, columns, types and rules.

Controlled vocabularies that analysts extend (instruments with their score ranges, event terms) come
from the seeds through core.definitions, so a new instrument added there is accepted here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from core.definitions import load_event_terms, load_instruments

Kind = Literal["text", "integer", "number", "date", "boolean"]

DUCKDB_TYPES: dict[Kind, str] = {
    "text": "VARCHAR",
    "integer": "INTEGER",
    "number": "DOUBLE",
    "date": "DATE",
    "boolean": "BOOLEAN",
}

ROUTES = ("IV", "IM", "INTRANASAL", "ORAL", "SUBLINGUAL")
SEXES = ("female", "male", "other", "unknown")


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    unique: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    vocabulary: tuple[str, ...] | None = None
    references: tuple[str, str] | None = None  # (table, column)
    not_future: bool = False

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.kind]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    required: bool = False
    site_path: tuple[str, ...] = field(default=())  # how a row reaches its site: the FK chain, for docs

    @property
    def key(self) -> Column:
        return self.columns[0]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _vital(name: str, low: int, high: int) -> Column:
    return Column(name, "integer", minimum=low, maximum=high)


@cache
def contract() -> tuple[Table, ...]:
    """The five source tables in load order (parents before children)."""
    return (
        Table("sites", required=True, columns=(
            Column("site_id", "text", required=True, unique=True),
            Column("site_name", "text", required=True),
            Column("region", "text"),
        )),
        Table("patients", required=True, columns=(
            Column("patient_id", "text", required=True, unique=True),
            Column("site_id", "text", required=True, references=("sites", "site_id")),
            Column("age_at_first_session", "integer", minimum=0, maximum=90),
            Column("sex", "text", vocabulary=SEXES),
            Column("zip3", "text"),
            Column("primary_dx_icd10", "text", required=True),
            Column("prior_failed_treatments", "integer", minimum=0, maximum=100),
            Column("substance_use_history", "boolean"),
        )),
        Table("sessions", columns=(
            Column("session_id", "text", required=True, unique=True),
            Column("patient_id", "text", required=True, references=("patients", "patient_id")),
            Column("session_date", "date", required=True, not_future=True),
            Column("route", "text", required=True, vocabulary=ROUTES),
            Column("dose_mg", "number", required=True, minimum=0, exclusive_minimum=True, maximum=10000),
            Column("weight_kg", "number", minimum=20, maximum=350),
            Column("duration_min", "integer", minimum=1, maximum=360),
            _vital("sbp_pre", 50, 300),
            _vital("dbp_pre", 20, 200),
            _vital("hr_pre", 20, 250),
            _vital("sbp_max", 50, 300),
            _vital("dbp_max", 20, 200),
            _vital("hr_max", 20, 250),
            _vital("spo2_min", 50, 100),
            _vital("cadss_total", 0, 92),
            Column("completed", "boolean"),
        )),
        Table("assessments", columns=(
            Column("assessment_id", "text", required=True, unique=True),
            Column("patient_id", "text", required=True, references=("patients", "patient_id")),
            Column("assessed_on", "date", required=True, not_future=True),
            Column("instrument", "text", required=True, vocabulary=tuple(load_instruments())),
            Column("total_score", "number", required=True),  # range depends on instrument: rules.py
        )),
        Table("adverse_events", columns=(
            Column("event_id", "text", required=True, unique=True),
            Column("session_id", "text", required=True, references=("sessions", "session_id")),
            Column("event_term", "text", required=True, vocabulary=load_event_terms()),
            Column("severity_grade", "integer", required=True, minimum=1, maximum=5),
            Column("serious", "boolean"),
            Column("resolved", "boolean"),
        )),
    )


def table(name: str) -> Table:
    return next(t for t in contract() if t.name == name)


# Defaults the contract gives for missing optional values.
DEFAULTS: dict[tuple[str, str], str] = {
    ("sessions", "completed"): "true",
    ("adverse_events", "serious"): "false",
}
