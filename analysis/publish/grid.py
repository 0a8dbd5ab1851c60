"""Every cell the dashboard can ask for, so an absent row never stands for a count of zero.

definitions.md suppresses "any count below min_cell_size", zero included. A cube built by GROUP BY lists
only the combinations that occur, so a filter choice with no courses would come back as "no data": a
zero, shown. The cubes are therefore completed on a fixed grid before suppression: every site of the
warehouse, every indication and route the project knows (seeds and the source contract, not only those that
occur), every
calendar year and month from the first to the last month of activity, every event term of the seed with
the sources it can have. A count missing from a cube is then a true zero, filled in before suppression
and hidden like any other small count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from analysis.suppression import ALL

CUBE = ("site", "indication", "route", "period", "month")


@dataclass(frozen=True)
class Grid:
    """The values of each filter dimension (without 'All') and the calendar the data cover."""

    sites: tuple[str, ...]
    indications: tuple[str, ...]
    routes: tuple[str, ...]
    months: tuple[str, ...]  # 'YYYY-MM', every month from the first to the last with activity

    @property
    def years(self) -> tuple[str, ...]:
        return tuple(sorted({m[:4] for m in self.months}))

    def cells(self, *, months: bool = True) -> pl.DataFrame:
        """site x indication x route (each with 'All') x time: all time, each year and, with ``months``, each
        month (whose period is its year, as ROLLUP(year, month) writes it)."""
        time = [(ALL, ALL), *((y, ALL) for y in self.years)]
        if months:
            time += [(m[:4], m) for m in self.months]
        frame = _values("site", self.sites)
        for column, values in (("indication", self.indications), ("route", self.routes)):
            frame = frame.join(_values(column, values), how="cross")
        calendar = pl.DataFrame({"period": [p for p, _ in time], "month": [m for _, m in time]})
        return frame.join(calendar, how="cross").select(CUBE)


def calendar_months(first: str | None, last: str | None) -> tuple[str, ...]:
    """'YYYY-MM' from first to last inclusive (none when there is no activity)."""
    if not first or not last:
        return ()
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(out)


def known(*sources: Iterable[str | None]) -> tuple[str, ...]:
    """The sorted union of the values of several sources (a vocabulary and the data), 'All' and nulls left out."""
    return tuple(sorted({v for values in sources for v in values if v is not None and v != ALL}))


def complete(frame: pl.DataFrame, grid: pl.DataFrame, counts: Sequence[str]) -> pl.DataFrame:
    """``frame`` on every row of ``grid`` (same key columns): absent rows added, their counts 0, other
    columns (means, spreads) null. Rows of ``frame`` outside the grid are an error in the grid, not data to drop."""
    keys = grid.columns
    outside = frame.join(grid, on=keys, how="anti", nulls_equal=True)
    if not outside.is_empty():
        raise ValueError(f"cube rows outside the publishing grid, e.g. {outside.select(keys).row(0)}")
    return grid.join(frame, on=keys, how="left", nulls_equal=True).with_columns(
        pl.col(c).fill_null(0).cast(pl.Int64) for c in counts)


def _values(column: str, values: Sequence[str]) -> pl.DataFrame:
    return pl.DataFrame({column: [ALL, *values]}, schema={column: pl.String})
