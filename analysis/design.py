"""Model frames for the regression analyses: complete cases, reference levels, thin levels set aside.

A categorical level seen in fewer than ``min_clusters`` patients, or one with no outcome signal (no
events; only responders or only non-responders), gives an infinite or meaningless ratio and often a fit
that never converges. Such a level is left out of the model and reported as its own 'too_few' row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import polars as pl

from analysis.tidy import TOO_FEW, failed, model_row

UNKNOWN = "unknown"  # the level of a missing categorical value: kept, so missing sex does not drop a patient


@dataclass(frozen=True)
class Design:
    data: pd.DataFrame  # the rows the model sees, categoricals ordered with the reference first
    terms: tuple[str, ...]  # right-hand side of the formula
    references: dict[str, str]  # categorical covariate -> its reference level
    skipped: list[dict[str, Any]] = field(default_factory=list)  # rows for levels and terms left out
    problem: str | None = None  # why no model can be fitted at all (a status), else None

    @property
    def observations(self) -> int:
        return len(self.data)

    def clusters(self, cluster: str) -> int:
        return int(self.data[cluster].nunique()) if len(self.data) else 0


def prepare_design(frame: pl.DataFrame, *, model: str, cluster: str, categorical: Mapping[str, str | None],
                   continuous: Sequence[str], signal: pl.Expr, min_clusters: int,
                   keep: Sequence[str] = ()) -> Design:
    """Build the model frame.

    ``categorical`` maps a column to its required reference level (None: the level with most patients);
    ``signal`` is a boolean aggregate that a level must satisfy to be estimable; ``keep`` are further
    columns the fit needs (outcome, exposure, duration).
    """
    data = frame.drop_nulls([*continuous, *keep]).with_columns(
        [pl.col(c).cast(pl.String).fill_null(UNKNOWN) for c in categorical])
    skipped: list[dict[str, Any]] = []
    if data[cluster].n_unique() < min_clusters:  # too little data for any model: say so before judging levels
        return Design(data.to_pandas(), (), {}, skipped, TOO_FEW)
    references: dict[str, str] = {}
    terms: list[str] = []
    for column, required in categorical.items():
        levels = data.group_by(column).agg(clusters=pl.col(cluster).n_unique(), signal=signal)
        thin = levels.filter((pl.col("clusters") < min_clusters) | ~pl.col("signal"))[column].to_list()
        if required is not None and (required in thin or required not in levels[column].to_list()):
            problem = f"reference {column} {required} has fewer than {min_clusters} patients or no outcome signal"
            return Design(data.to_pandas(), (), {}, skipped, failed(problem))
        data = data.filter(~pl.col(column).is_in(thin))
        kept = levels.filter(~pl.col(column).is_in(thin)).sort(["clusters", column], descending=[True, False])
        reference = required if required is not None else (kept[column][0] if kept.height else None)
        skipped += [model_row(TOO_FEW, model, term=f"{column}={level}", reference=reference) for level in sorted(thin)]
        if reference is None or kept.height < 2:
            continue  # a single level explains nothing: no term
        references[column] = reference
        terms.append(column)
    for column in continuous:
        if data.height and data[column].n_unique() > 1:
            terms.append(column)
        else:
            skipped.append(model_row(TOO_FEW, model, term=column))
    pdf = data.to_pandas()
    for column, reference in references.items():
        others = sorted(set(pdf[column]) - {reference})
        pdf[column] = pd.Categorical(pdf[column], categories=[reference, *others])
    clusters = int(pdf[cluster].nunique()) if len(pdf) else 0
    problem = TOO_FEW if clusters < min_clusters or not terms else None
    return Design(pdf, tuple(terms), references, skipped, problem)
