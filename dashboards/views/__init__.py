"""The dashboard's pages, one module each (not pages/: Streamlit treats a pages/ folder beside app.py as a
legacy multipage app and ignores st.navigation), in navigation order. Each exposes render() and reads its data
through dashboards.data only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dashboards.views import data_quality, durability, outcomes, overview, safety, sites


@dataclass(frozen=True)
class PageSpec:
    render: Callable[[], None]
    title: str
    slug: str
    icon: str


PAGES = (
    PageSpec(overview.render, "Overview", "overview", ":material/dashboard:"),
    PageSpec(outcomes.render, "Outcomes", "outcomes", ":material/trending_down:"),
    PageSpec(durability.render, "Durability", "durability", ":material/timeline:"),
    PageSpec(safety.render, "Safety", "safety", ":material/health_and_safety:"),
    PageSpec(sites.render, "Sites", "sites", ":material/location_on:"),
    PageSpec(data_quality.render, "Data quality", "data-quality", ":material/fact_check:"),
)
