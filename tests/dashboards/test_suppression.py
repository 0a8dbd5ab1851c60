"""The suppression engine on small hand-made cubes (analysis/suppression.py)."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from analysis.suppression import calendar, flat, revealing_margins, suppress

K = 11


def cube(parts: dict[tuple[str, str], int], measure: str = "m") -> pl.DataFrame:
    """A site x indication table with its 'All' row and column, as publish builds them."""
    sites = sorted({s for s, _ in parts}) + ["All"]
    indications = sorted({i for _, i in parts}) + ["All"]
    rows = []
    for site, indication in itertools.product(sites, indications):
        total = sum(v for (s, i), v in parts.items() if site in ("All", s) and indication in ("All", i))
        rows.append({"site": site, "indication": indication, "measure": measure, "count": total})
    return pl.DataFrame(rows)


def shown(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("count")).alias("count"))


DIMS = [flat("site"), flat("indication")]


def cell(frame: pl.DataFrame, site: str, indication: str) -> dict:
    return frame.filter((pl.col("site") == site) & (pl.col("indication") == indication)).row(0, named=True)


def test_suppress_hides_a_small_count_and_a_companion_in_each_of_its_margins():
    out = suppress(cube({("A", "X"): 5, ("A", "Y"): 40, ("B", "X"): 30, ("B", "Y"): 50}), DIMS, min_cell_size=K)
    assert cell(out, "A", "X")["suppressed"]
    assert revealing_margins(shown(out), DIMS, value="count", key=["measure"]) == 0
    # the row A and the column X each hold a second hidden cell, so neither subtraction gives 5
    assert cell(out, "A", "Y")["suppressed"]
    assert cell(out, "B", "X")["suppressed"]
    assert not cell(out, "All", "All")["suppressed"]


def test_suppress_hides_zeros_like_any_count_below_the_threshold_and_shows_the_threshold():
    """definitions.md: "any count below 11" is suppressed - zero included; 11 itself is shown."""
    out = suppress(cube({("A", "X"): 0, ("A", "Y"): 11, ("B", "X"): 20, ("B", "Y"): 30}), DIMS, min_cell_size=K)
    assert cell(out, "A", "X")["suppressed"]
    assert revealing_margins(shown(out), DIMS, value="count", key=["measure"]) == 0
    assert not cell(out, "All", "All")["suppressed"]
    at_threshold = suppress(cube({("A", "X"): 11, ("A", "Y"): 11, ("B", "X"): 11, ("B", "Y"): 11}), DIMS,
                            min_cell_size=K)
    assert not at_threshold["suppressed"].any()


def test_suppress_prefers_the_smallest_shown_part_as_companion():
    frame = pl.DataFrame({"measure": "m", "site": ["All", "A", "B", "C", "D"], "count": [535, 3, 500, 20, 12]})
    out = suppress(frame, [flat("site")], min_cell_size=K)
    assert out.filter(pl.col("suppressed"))["site"].to_list() == ["A", "D"]


def test_suppress_does_not_let_suppressed_zeros_add_up_to_a_shown_total():
    """Parts 0, 0, 40, 25 of 65: hiding the two zeros alone leaves 65 - 40 - 25 = 0, so each must be 0."""
    frame = pl.DataFrame({"measure": "m", "site": ["All", "A", "B", "C", "D"], "count": [65, 0, 0, 40, 25]})
    out = suppress(frame, [flat("site")], min_cell_size=K)
    assert out.filter(pl.col("suppressed"))["site"].to_list() == ["A", "B", "D"]
    assert revealing_margins(shown(out), [flat("site")], value="count", key=["measure"]) == 0


def test_revealing_margins_counts_a_lone_suppressed_count_and_suppressed_zeros_that_add_up():
    lone = pl.DataFrame({"measure": "m", "site": ["All", "A", "B"], "count": [40, None, 30]})
    zeros = pl.DataFrame({"measure": "m", "site": ["All", "A", "B", "C"], "count": [30, None, None, 30]})
    safe = pl.DataFrame({"measure": "m", "site": ["All", "A", "B", "C"], "count": [35, None, None, 30]})
    hidden_total = pl.DataFrame({"measure": "m", "site": ["All", "A", "B", "C"], "count": [None, None, None, 30]})
    counted = [revealing_margins(f, [flat("site")], value="count", key=["measure"])
               for f in (lone, zeros, safe, hidden_total)]
    assert counted == [1, 1, 0, 0]


def test_suppress_hides_a_subset_equal_to_its_superset():
    """Every evaluable course responded: 'evaluable - responders' = 0 non-responders, a count below 11."""
    responders = cube({("A", "X"): 50, ("B", "X"): 60}, "responders")
    evaluable = cube({("A", "X"): 50, ("B", "X"): 200}, "evaluable")
    out = suppress(pl.concat([responders, evaluable]), DIMS, min_cell_size=K, linked=[("responders", "evaluable")])
    a = out.filter((pl.col("site") == "A") & (pl.col("indication") == "X") & (pl.col("measure") == "responders"))
    assert a["suppressed"].item()


def test_suppress_hides_a_subset_whose_difference_from_its_superset_is_small():
    responders = cube({("A", "X"): 45, ("B", "X"): 60}, "responders")
    evaluable = cube({("A", "X"): 50, ("B", "X"): 200}, "evaluable")
    out = suppress(pl.concat([responders, evaluable]), DIMS, min_cell_size=K, linked=[("responders", "evaluable")])
    a = out.filter((pl.col("site") == "A") & (pl.col("indication") == "X") & (pl.col("measure") == "responders"))
    assert a["suppressed"].item()  # 50 - 45 = 5 non-responders would be shown otherwise
    assert revealing_margins(shown(out), DIMS, value="count", key=["measure"]) == 0


def test_suppress_protects_months_within_their_year_and_years_within_all_time():
    rows = [("All", 300), ("2023", 150), ("2024", 150)]
    rows += [(f"2023-{m:02d}", 25 if m != 5 else 4) for m in range(1, 7)]  # 5 x 25 + 4 = 129 ...
    rows += [(f"2023-{m:02d}", 3) for m in range(7, 14) if m <= 12]  # ... + 6 x 3 = 147
    rows += [("2023-12", 3)]
    months = [r for r in rows if len(r[0]) == 7]
    year_2023 = sum(v for t, v in months)
    rows = [("All", year_2023 + 150), ("2023", year_2023), ("2024", 150)] + months
    frame = pl.DataFrame({"measure": "m", "_time": [t for t, _ in rows], "count": [v for _, v in rows]})
    out = suppress(frame, [calendar("_time")], min_cell_size=K)
    assert revealing_margins(shown(out), [calendar("_time")], value="count", key=["measure"]) == 0
    assert not out.filter(pl.col("_time") == "All")["suppressed"].item()


@pytest.mark.parametrize("seed", range(8))
def test_suppress_leaves_no_margin_with_a_lone_hidden_cell_on_random_three_way_cubes(seed: int):
    rng = np.random.default_rng(seed)
    rows = []
    for site, indication, route in itertools.product("ABCD", "XYZ", "PQ"):
        rows.append((site, indication, route, int(rng.choice([0, 2, 5, 9, 15, 40, 120]))))
    parts = pl.DataFrame(rows, schema=["site", "indication", "route", "count"], orient="row")
    cube3 = (
        parts.group_by(pl.col("site"), pl.col("indication"), pl.col("route")).agg(pl.col("count").sum())
    )
    for columns in itertools.chain.from_iterable(itertools.combinations(["site", "indication", "route"], r)
                                                 for r in (1, 2, 3)):
        keep = [c for c in ["site", "indication", "route"] if c not in columns]
        total = parts.group_by(keep).agg(pl.col("count").sum()) if keep else parts.select(pl.col("count").sum())
        cube3 = pl.concat([cube3, total.with_columns(*(pl.lit("All").alias(c) for c in columns))], how="diagonal")
    cube3 = cube3.with_columns(measure=pl.lit("m"))
    dims = [flat("site"), flat("indication"), flat("route")]
    out = suppress(cube3, dims, min_cell_size=K)
    assert revealing_margins(shown(out), dims, value="count", key=["measure"]) == 0
    assert out.filter(pl.col("count") < K)["suppressed"].all()
