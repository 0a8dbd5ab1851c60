"""The sidebar filters every page honours, and what a page run needs to know (file version, filters).

Each filter is a single choice with an 'All' row: the published file holds a suppressed cell for exactly
these combinations, and nothing else (see analysis/publish.py for why subsets are not offered).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.data import ALL, Version

DIMENSIONS = (("site", "Site"), ("indication", "Indication"), ("route", "Route"), ("period", "Period"))
_RUN = "_kow_run"  # session key of the current run's context (not a widget: users cannot set it)


@dataclass(frozen=True)
class Filters:
    site: str = ALL
    indication: str = ALL
    route: str = ALL
    period: str = ALL


@dataclass(frozen=True)
class Run:
    """What one script run of one session reads: one file version, one set of filters."""

    version: Version
    filters: Filters
    about: Mapping[str, str]
    labels: Mapping[str, Mapping[str, str]]  # dimension -> value -> label

    def label(self, dimension: str, value: str) -> str:
        return self.labels.get(dimension, {}).get(value, value)

    def describe(self) -> str:
        """The filters in words, for the caption under each page title."""
        parts = [self.label(dim, getattr(self.filters, dim)) for dim, _ in DIMENSIONS]
        return " · ".join(parts) + f" — data through {self.about.get('last_month', '?')}"


def render_sidebar(version: Version) -> Run:
    """Draw the four filters (keeping choices across pages and publishes) and remember this run's context."""
    options = data.filter_options(version)
    labels: dict[str, dict[str, str]] = {}
    chosen = {}
    for dimension, title in DIMENSIONS:
        rows = options.filter(pl.col("dimension") == dimension)
        values = rows["value"].to_list() or [ALL]
        labels[dimension] = dict(zip(values, rows["label"].to_list() or ["All"], strict=True))
        key = f"filter_{dimension}"
        if st.session_state.get(key) not in values:  # first run, or a value gone from a newer publish
            st.session_state[key] = ALL
        chosen[dimension] = st.sidebar.selectbox(title, values, key=key, format_func=labels[dimension].get)
    run = Run(version, Filters(**chosen), data.about(version), labels)
    st.session_state[_RUN] = run
    return run


def current_run() -> Run:
    """The context render_sidebar stored for this run (pages call this first)."""
    return st.session_state[_RUN]


def current_filters() -> Filters:
    return current_run().filters
