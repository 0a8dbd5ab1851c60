"""Tidy result tables: one fixed schema per analysis table, statsmodels results as rows, fits that fail as rows.

Status vocabulary (issue #5): 'ok', 'not_converged', 'too_few', 'failed: <reason>'. A fit never raises
out of an analysis: convergence warnings are turned into errors inside ``guarded_fit`` and become a
status, so thin or odd data gives a table that says so instead of a crash or a silently wrong number.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import polars as pl
from patsy import PatsyError
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    HessianInversionWarning,
    IterationLimitWarning,
    PerfectSeparationError,
    PerfectSeparationWarning,
)

OK, NOT_CONVERGED, TOO_FEW = "ok", "not_converged", "too_few"
MODEL_TERM = "(model)"  # the term of a row that speaks for a whole model that could not be fitted

RATIOS_SCHEMA: dict[str, pl.DataType] = {
    "term": pl.String(), "reference": pl.String(), "ratio": pl.Float64(), "ci_low": pl.Float64(),
    "ci_high": pl.Float64(), "p_value": pl.Float64(), "observations": pl.Int64(), "clusters": pl.Int64(),
    "model": pl.String(), "status": pl.String(),
}

R = TypeVar("R")


def failed(reason: str) -> str:
    """A 'failed: <reason>' status, one line and short (reasons are our own text, never data values)."""
    first = reason.strip().splitlines()[0] if reason.strip() else "unknown error"
    return f"failed: {first[:160]}"


def conform(rows: pl.DataFrame | Sequence[Mapping[str, Any]], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Exactly the schema's columns, in its order and types; missing columns are null."""
    frame = rows if isinstance(rows, pl.DataFrame) else pl.DataFrame(list(rows), schema_overrides=dict(schema),
                                                                      infer_schema_length=None)
    if frame.width == 0 or frame.height == 0 and not frame.columns:
        return pl.DataFrame(schema=dict(schema))
    return frame.select([
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    ])


def guarded_fit(fit: Callable[[], R]) -> tuple[R | None, str]:
    """Run a statsmodels fit; (result, 'ok') or (None, status) when it did not converge or could not run.

    ConvergenceWarning and IterationLimitWarning are raised as errors here (style guide), so a fit
    that stopped early never reaches a table as if it were an estimate.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", IterationLimitWarning)
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("error", HessianInversionWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow inside a diverging fit: judged below
        try:
            return fit(), OK
        except (ConvergenceWarning, IterationLimitWarning, PerfectSeparationWarning, PerfectSeparationError):
            return None, NOT_CONVERGED
        except HessianInversionWarning:
            return None, failed("information matrix not invertible")
        except np.linalg.LinAlgError as exc:
            return None, failed(f"linear algebra: {exc}")
        except (ValueError, PatsyError, ZeroDivisionError) as exc:
            return None, failed(str(exc))


def model_row(status: str, model: str, *, observations: int | None = None, clusters: int | None = None,
              term: str = MODEL_TERM, reference: str | None = None) -> dict[str, Any]:
    """A row saying why a model (or one term) has no estimate."""
    return {"term": term, "reference": reference, "observations": observations, "clusters": clusters,
            "model": model, "status": status}


_CATEGORY_TERM = re.compile(r"^(?P<name>\w+)\[T\.(?P<level>.+)\]$")


def term_label(raw: str) -> str:
    """patsy's 'route[T.IM]' becomes 'route=IM'; continuous terms keep their column name."""
    match = _CATEGORY_TERM.match(raw)
    return f"{match['name']}={match['level']}" if match else raw


def tidy_ratios(result: Any, *, model: str, alpha: float, references: Mapping[str, str],
                observations: int, clusters: int) -> pl.DataFrame:
    """exp(coefficient) per term with its interval: rate, odds or hazard ratios. The intercept is not a ratio."""
    names = [str(n) for n in _param_names(result)]
    params = np.asarray(result.params, dtype=np.float64)
    ci = np.asarray(result.conf_int(alpha=alpha), dtype=np.float64)
    pvalues = np.asarray(result.pvalues, dtype=np.float64)
    rows = []
    for i, raw in enumerate(names):
        if raw == "Intercept":
            continue
        label = term_label(raw)
        finite = np.isfinite(params[i]) and np.all(np.isfinite(ci[i]))
        rows.append({
            "term": label, "reference": references.get(label.split("=")[0]),
            "ratio": float(np.exp(params[i])), "ci_low": float(np.exp(ci[i, 0])), "ci_high": float(np.exp(ci[i, 1])),
            "p_value": float(pvalues[i]), "observations": observations, "clusters": clusters, "model": model,
            "status": OK if finite else failed("non-finite estimate"),
        })
    return conform(rows, RATIOS_SCHEMA)


def _param_names(result: Any) -> Sequence[str]:
    index = getattr(result.params, "index", None)
    if index is not None:
        return list(index)
    return list(result.model.exog_names)
