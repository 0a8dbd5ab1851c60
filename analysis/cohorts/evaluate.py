"""evaluate_cohort(): a definition against the warehouse's marts -> attrition, members, suppressed summary.

One read-only, sandboxed connection per evaluation (analysis/cohorts/connection.py); the CLI commands,
the notebook API and the exports all go through here, so they cannot disagree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from analysis.cohorts.connection import open_marts
from analysis.cohorts.definition import CohortDefinition
from analysis.cohorts.outcomes import CohortData, outcome_attrition, read_cohort_data
from analysis.cohorts.select import ATTRITION_SCHEMA, members, select_cohort
from analysis.cohorts.summary import summarise
from analysis.durability import KmCurve
from core.definitions import Definitions, load_definitions, load_event_terms


@dataclass(frozen=True)
class CohortResult:
    definition: CohortDefinition
    definitions: Definitions  # min_cell_size and alpha in force
    attrition: pl.DataFrame  # select.ATTRITION_SCHEMA: criteria, then the outcome steps (stage "outcome")
    members: pl.DataFrame  # patient_id, course_number
    summary: pl.DataFrame  # summary.SUMMARY_SCHEMA
    curves: list[KmCurve]  # Kaplan-Meier per group, cut where fewer than min_cell_size remain at risk
    warnings: tuple[str, ...]
    data: CohortData  # the unsuppressed cells behind the summary (for exports by group)
    seconds: float

    @property
    def courses(self) -> int:
        return self.members.height

    @property
    def patients(self) -> int:
        return self.members["patient_id"].n_unique() if self.members.height else 0


def evaluate_cohort(definition: CohortDefinition, warehouse: Path, *, group_by: str = "all",
                    suppress_small: bool = True, definitions: Definitions | None = None) -> CohortResult:
    """Select the cohort and summarise it (``group_by``: all, indication or site)."""
    started = time.perf_counter()
    chosen = definitions or load_definitions()
    with open_marts(warehouse) as con:
        selection = select_cohort(con, definition)
        member_frame = members(con)
        data = read_cohort_data(con, definition.outcome_instrument)
    attrition = pl.concat([selection.attrition,
                           pl.DataFrame(outcome_attrition(data, selection.attrition.height), schema=ATTRITION_SCHEMA)])
    summary = summarise(data, cohort=definition.name, min_cell_size=chosen.min_cell_size, alpha=chosen.alpha,
                        event_terms=load_event_terms(), group_by=group_by, suppress_small=suppress_small)
    return CohortResult(definition=definition, definitions=chosen, attrition=attrition, members=member_frame,
                        summary=summary.table, curves=summary.curves, warnings=selection.warnings, data=data,
                        seconds=time.perf_counter() - started)
