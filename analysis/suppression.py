"""Small-cell suppression of a cube of counts: primary, complementary, and linked counts.

The published file holds counts for every filter combination the dashboard offers, with "All" rows,
so each count sits in margins: a total and its parts along one dimension (site 'All' = sum of the
sites; year = sum of its months). definitions.md asks that a count below ``min_cell_size`` be
suppressed "together with whatever would let it be recomputed from the row or column totals":

- primary: every count below ``min_cell_size`` is suppressed, zero included, as definitions.md writes it
  ("any count below 11"). The cubes are completed on a fixed grid first (analysis/publish/grid.py), so a
  combination with nobody in it is a zero cell, suppressed, not a missing row.
- complementary: in any margin where exactly one member is suppressed, the smallest other part (else the
  total) is suppressed too; and where the total is shown but the suppressed parts add up to zero (total
  minus shown parts = 0 tells the reader every one of them is 0), one more part with a count is
  suppressed. Repeated until no margin gives a suppressed count away by one subtraction.
- linked counts: for a count that is a subset of another in the same cell (responders of evaluable
  courses), the difference is itself a count; when it is below the threshold (zero included) the subset
  is suppressed, so "evaluable - responders" cannot reveal a small number of non-responders.

This protects every single margin (what a reader can do with one subtraction). It is not a full
linear-programming audit of all margins at once; see the report of issue #6.

Input is long: one row per cell and measure, the dimension columns, ``measure`` and ``count``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

ALL = "All"
MEASURE = "measure"
COUNT = "count"


@dataclass(frozen=True)
class Dimension:
    """A cube dimension: its column and how a part's value names its total's value (None: top)."""

    column: str
    parent: Callable[[pl.Expr], pl.Expr]


def flat(column: str) -> Dimension:
    """A dimension whose parts all add up to the 'All' row (site, indication, route, event term)."""
    return Dimension(column, lambda value: pl.when(value == ALL).then(None).otherwise(pl.lit(ALL)))


def calendar(column: str) -> Dimension:
    """Time as 'All' > 'YYYY' > 'YYYY-MM': a month adds up to its year, a year to all time."""
    return Dimension(
        column,
        lambda value: (
            pl.when(value.str.len_chars() == 7).then(value.str.slice(0, 4))  # 'YYYY-MM'
            .when(value.str.len_chars() == 4).then(pl.lit(ALL))  # 'YYYY'
            .otherwise(None)
        ),
    )


@dataclass(frozen=True)
class _Margins:
    """One dimension's margins as flat arrays: member row, margin id, whether the member is a part."""

    rows: np.ndarray
    ids: np.ndarray
    is_part: np.ndarray
    count: int


def suppress(
    cells: pl.DataFrame,
    dims: Sequence[Dimension],
    *,
    min_cell_size: int,
    linked: Sequence[tuple[str, str]] = (),
) -> pl.DataFrame:
    """``cells`` with a boolean ``suppressed`` column; counts are left as they are (the caller nulls them).

    ``linked`` pairs (subset measure, superset measure) counted on the same cell.
    """
    if cells.is_empty():
        return cells.with_columns(suppressed=pl.lit(False))
    frame = cells.with_row_index("_row")
    counts = frame[COUNT].cast(pl.Int64).fill_null(0).to_numpy()
    hidden = counts < min_cell_size
    margins = [_margins(frame, dim, [d.column for d in dims if d is not dim]) for dim in dims]
    pairs = [_pair_rows(frame, [d.column for d in dims], subset, superset) for subset, superset in linked]
    changed = True
    while changed:
        changed = False
        for subset_rows, superset_rows in pairs:
            changed |= _protect_differences(hidden, counts, subset_rows, superset_rows, min_cell_size)
        for margin in margins:
            changed |= _protect_margin(hidden, counts, margin)
    return cells.with_columns(suppressed=pl.Series(hidden))


def revealing_margins(frame: pl.DataFrame, dims: Sequence[Dimension], *, value: str,
                      key: Sequence[str] = ()) -> int:
    """How many margins give a suppressed (null) ``value`` away: those holding exactly one, and those whose total
    is shown and equals the sum of the shown parts while some part is suppressed (then each is zero).

    Used by the tests on the published tables themselves, so it reads nulls and shown values, not the flag.
    """
    cells = frame.select(*key, *(d.column for d in dims), pl.col(value).alias(COUNT)).with_columns(
        pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator="|").alias(MEASURE) if key else pl.lit("")
        .alias(MEASURE)
    )
    hidden = cells[COUNT].is_null().to_numpy()
    counts = cells[COUNT].cast(pl.Int64).fill_null(0).to_numpy()
    with_rows = cells.with_row_index("_row")
    revealing = 0
    for dim in dims:
        margin = _margins(with_rows, dim, [d.column for d in dims if d is not dim])
        if margin.count:
            revealing += int(np.sum(_exposed(hidden, counts, margin)))
    return revealing


def _margins(frame: pl.DataFrame, dim: Dimension, others: list[str]) -> _Margins:
    """Members of every margin along ``dim``: parts grouped under their parent value, plus that total."""
    keys = [MEASURE, *others]
    parent = dim.parent(pl.col(dim.column))
    parts = frame.filter(parent.is_not_null()).select(
        "_row", *keys, parent.alias("_anchor"), pl.lit(True).alias("_part"))
    if parts.is_empty():
        return _Margins(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, bool), 0)
    anchors = parts.select(*keys, "_anchor").unique()
    totals = frame.select("_row", *keys, pl.col(dim.column).alias("_anchor"), pl.lit(False).alias("_part")).join(
        anchors, on=[*keys, "_anchor"], how="semi"
    )
    ids = anchors.with_row_index("_margin")
    members = pl.concat([parts, totals]).join(ids, on=[*keys, "_anchor"], how="inner")
    return _Margins(
        rows=members["_row"].cast(pl.Int64).to_numpy(),
        ids=members["_margin"].cast(pl.Int64).to_numpy(),
        is_part=members["_part"].to_numpy(),
        count=ids.height,
    )


def _pair_rows(frame: pl.DataFrame, dims: list[str], subset: str, superset: str) -> tuple[np.ndarray, np.ndarray]:
    a = frame.filter(pl.col(MEASURE) == subset).select(*dims, pl.col("_row").alias("_sub"))
    b = frame.filter(pl.col(MEASURE) == superset).select(*dims, pl.col("_row").alias("_sup"))
    both = a.join(b, on=dims, how="inner", nulls_equal=True)
    return both["_sub"].cast(pl.Int64).to_numpy(), both["_sup"].cast(pl.Int64).to_numpy()


def _protect_differences(hidden: np.ndarray, counts: np.ndarray, sub: np.ndarray, sup: np.ndarray,
                         min_cell_size: int) -> bool:
    """Hide the subset wherever both are shown and their difference is a small count (zero included)."""
    difference = counts[sup] - counts[sub]
    reveal = ~hidden[sub] & ~hidden[sup] & (difference < min_cell_size)
    if not reveal.any():
        return False
    hidden[sub[reveal]] = True
    return True


def _exposed(hidden: np.ndarray, counts: np.ndarray, margin: _Margins) -> np.ndarray:
    """Per margin: a suppressed member can be worked out from it. Either it is the only one suppressed, or the
    total is shown and equals the shown parts, so the suppressed parts add up to zero and each is 0.
    ``counts`` of suppressed members are never read here (the tests pass the published file, nulls as 0)."""
    def per_margin(weights: np.ndarray) -> np.ndarray:
        return np.bincount(margin.ids, weights=weights, minlength=margin.count)

    member_hidden = hidden[margin.rows]
    value = np.where(member_hidden, 0, counts[margin.rows])
    is_total = ~margin.is_part
    shown_total = (per_margin(is_total) == 1) & (per_margin(is_total & member_hidden) == 0)
    rest = per_margin(np.where(is_total, value, 0)) - per_margin(np.where(margin.is_part, value, 0))
    hidden_parts = per_margin(margin.is_part & member_hidden)
    return (per_margin(member_hidden) == 1) | (shown_total & (hidden_parts >= 1) & (rest == 0))


def _protect_margin(hidden: np.ndarray, counts: np.ndarray, margin: _Margins) -> bool:
    """In each margin that gives a suppressed member away, suppress one more: the smallest shown part with a
    count (the least information lost), else the total. Greedy, margin by margin: optimal cell suppression is
    NP-hard, so this may hide more than the minimum."""
    if not margin.count:
        return False
    exposed = _exposed(hidden, counts, margin)
    candidate = exposed[margin.ids] & ~hidden[margin.rows]
    if not candidate.any():
        return False
    rows, ids, is_part = margin.rows[candidate], margin.ids[candidate], margin.is_part[candidate]
    value = counts[rows]
    rank = np.where(is_part & (value > 0), 0, np.where(~is_part, 1, 2))
    order = np.lexsort((value, rank, ids))  # by margin, then preference, then smallest count
    _, first = np.unique(ids[order], return_index=True)
    hidden[rows[order[first]]] = True
    return True
