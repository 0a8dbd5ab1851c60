"""Funnel-plot and u-chart limits over published figures (dashboards/limits.py)."""

from __future__ import annotations

import polars as pl
import pytest

from dashboards.limits import funnel_limits, funnel_position, u_chart


def test_funnel_limits_narrow_with_volume_and_the_wider_level_is_outside():
    limits = funnel_limits(50.0, (100, 10_000), kind="proportion")
    inner = limits.filter(pl.col("level") == "95%").sort("volume")
    outer = limits.filter(pl.col("level") == "99.8%").sort("volume")
    assert (inner["upper"].diff().drop_nulls() <= 0).all()
    assert (outer["upper"] >= inner["upper"]).all()
    assert (outer["lower"] <= inner["lower"]).all()
    # normal approximation at n = 100: 50% +- 1.96 x 5%
    closest = inner.filter((pl.col("volume") - 100).abs() == (pl.col("volume") - 100).abs().min())
    assert closest["upper"].item() == pytest.approx(50 + 1.96 * 5, abs=0.6)


@pytest.mark.parametrize(("value", "volume", "expected"), [
    (50.0, 400, "within"), (56.0, 400, "above 95%"), (60.0, 400, "above 99.8%"), (40.0, 400, "below 99.8%"),
    (60.0, 20, "within"),  # the same gap at a small site is chance
])
def test_funnel_position_places_a_site_against_the_limits(value: float, volume: float, expected: str):
    assert funnel_position(value, volume, 50.0, kind="proportion") == expected


def test_funnel_position_for_rates_per_100_sessions():
    assert funnel_position(60.0, 10_000, 60.0, kind="per_100_sessions") == "within"
    assert funnel_position(66.0, 10_000, 60.0, kind="per_100_sessions") == "above 99.8%"


def test_u_chart_limits_follow_each_months_sessions_and_flag_an_outlying_month():
    months = pl.DataFrame({"month": ["2024-01", "2024-02", "2024-03", "2024-04"],
                           "events": [10, 12, 40, None], "sessions": [1000, 1000, 1000, 500]})
    chart = u_chart(months)
    assert chart["month"].to_list() == ["2024-01", "2024-02", "2024-03"]  # a suppressed month is left out
    assert chart["centre"][0] == pytest.approx(100 * 62 / 3000)
    assert chart["out_of_control"].to_list() == [False, False, True]
    assert chart.filter(pl.col("out_of_control"))["status"].item() == "outside limits"
