"""Ground truth: planted response and event rates fall inside our 95% intervals about 95% of the time.

Eight generated clinics share one dbt-built warehouse (conftest); each clinic's estimates come from the
marts restricted to its sites and are checked against its own truth.json.
"""

from __future__ import annotations

import polars as pl
import pytest

from analysis.marts import read_marts
from analysis.rates import ae_rates
from analysis.response import response_by_indication
from core.definitions import load_definitions, load_event_terms
from tests.analysis.conftest import RECOVERY_SEEDS, WAREHOUSE_GROUP, BuiltClinics

pytestmark = pytest.mark.xdist_group(WAREHOUSE_GROUP)


def test_planted_response_and_event_rates_fall_inside_the_intervals_at_about_the_nominal_rate(
        built_clinics: BuiltClinics):
    d = load_definitions()
    data = read_marts(built_clinics.settings.warehouse)
    misses: list[str] = []
    checked = 0
    for seed in RECOVERY_SEEDS:
        truth = built_clinics.truths[seed]
        prefix = f"{built_clinics.clinic_code(seed)}-"

        def own(frame: pl.DataFrame, prefix: str = prefix) -> pl.DataFrame:
            return frame.filter(pl.col("site_id").str.starts_with(prefix))

        response = response_by_indication(own(data.courses), alpha=d.alpha, min_cell_size=d.min_cell_size)
        response = {r["indication"]: r for r in response.filter(pl.col("instrument") == "all").iter_rows(named=True)}
        rates = ae_rates(own(data.session_cells), own(data.event_cells), event_terms=load_event_terms(),
                         alpha=d.alpha, min_cell_size=d.min_cell_size, dose_band_edges=d.dose_band_edges_mg_per_kg)
        rates = {r["stratum"]: r for r in rates.filter((pl.col("stratum_type") == "event_term")
                                                       & (pl.col("source") == "reported")).iter_rows(named=True)}
        pairs = [(f"response {k}", v, response[k]["ci_low"], response[k]["ci_high"])
                 for k, v in truth["response_rate_by_indication"].items()]
        pairs += [(f"ae {k}", v, rates[k]["ci_low"], rates[k]["ci_high"])
                  for k, v in truth["ae_rate_per_100_sessions"].items()]
        for label, planted, low, high in pairs:
            checked += 1
            if not low <= planted <= high:
                misses.append(f"seed {seed} {label}: {planted:.4f} outside [{low:.4f}, {high:.4f}]")
    assert checked == len(RECOVERY_SEEDS) * 23  # 9 indications + 14 event terms per clinic
    rate = len(misses) / checked
    assert 0.005 <= rate <= 0.15, f"miss rate {rate:.1%} over {checked} pairs:\n" + "\n".join(misses)
