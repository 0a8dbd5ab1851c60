"""Every query a page needs, cached, polars out. The only module that opens the published file.

Caches key on ``Version(path, inode, mtime_ns)``: a publish swaps in a new file (new inode), so the next
rerun of any session computes a new key, opens the new file and never mixes it with the old one.
Filter values travel only as bound parameters.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import polars as pl
import streamlit as st

ALL = "All"


class Version(NamedTuple):
    """One published file as it is on disk now; a publish changes the inode (and the mtime)."""

    path: str
    inode: int
    mtime_ns: int


class StaleVersion(RuntimeError):
    """The published file was replaced while this run was opening it: rerun against the new one."""


def version_of(path: Path) -> Version:
    """The published file's current version (FileNotFoundError when nothing was published yet)."""
    info = os.stat(path)
    return Version(str(path), info.st_ino, info.st_mtime_ns)


@st.cache_resource(max_entries=2)  # the new file and, while runs on it finish, the one before
def _connection(version: Version) -> duckdb.DuckDBPyConnection:
    # connect() then ATTACH, never connect(path): DuckDB would hand back its cached instance of the old file
    # (stack-notes.md, same-process instance cache). The stat after ATTACH proves we opened this inode.
    con = duckdb.connect()
    con.execute("ATTACH ? AS published (READ_ONLY)", [version.path])
    if version_of(Path(version.path)) != version:
        con.close()
        raise StaleVersion(version.path)
    return con


def _query(version: Version, sql: str, **params: Any) -> pl.DataFrame:
    # A cursor per call: cached connections are shared by every session's thread (stack-notes.md).
    return _connection(version).cursor().sql(sql, params=params or None).pl()


@st.cache_data(max_entries=8, show_spinner=False)
def filter_options(version: Version) -> pl.DataFrame:
    return _query(version, "SELECT dimension, value, label, sort_order FROM published.filter_options "
                           "ORDER BY dimension, sort_order")


@st.cache_data(max_entries=8, show_spinner=False)
def about(version: Version) -> dict[str, str]:
    frame = _query(version, "SELECT name, value FROM published.about")
    return dict(zip(frame["name"].to_list(), frame["value"].to_list(), strict=True))


@st.cache_data(max_entries=8, show_spinner=False)
def published_tables(version: Version) -> tuple[str, ...]:
    frame = _query(version, "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'published'")
    return tuple(sorted(frame["table_name"].to_list()))


@st.cache_data(max_entries=256, show_spinner=False)
def headline(version: Version, site: str, indication: str, route: str, period: str) -> pl.DataFrame:
    """Every metric of one cell for the whole period (one row per metric)."""
    return _query(
        version,
        "SELECT * FROM published.metrics WHERE site = $site AND indication = $indication AND route = $route "
        "AND period = $period AND month = 'All'",
        site=site, indication=indication, route=route, period=period)


@st.cache_data(max_entries=256, show_spinner=False)
def monthly(version: Version, site: str, indication: str, route: str, period: str,
            metrics: tuple[str, ...]) -> pl.DataFrame:
    """The metrics month by month within the period (all months for 'All')."""
    return _query(
        version,
        "SELECT * FROM published.metrics WHERE site = $site AND indication = $indication AND route = $route "
        "AND month <> 'All' "
        "AND ($period = 'All' OR period = $period) AND list_contains($metrics, metric) ORDER BY metric, month",
        site=site, indication=indication, route=route, period=period, metrics=list(metrics))


@st.cache_data(max_entries=256, show_spinner=False)
def yearly(version: Version, site: str, indication: str, route: str, metrics: tuple[str, ...]) -> pl.DataFrame:
    """The metrics year by year (every year: the trend for small clinics, whose months are mostly suppressed)."""
    return _query(
        version,
        "SELECT * FROM published.metrics WHERE site = $site AND indication = $indication AND route = $route "
        "AND month = 'All' AND period <> 'All' AND list_contains($metrics, metric) ORDER BY metric, period",
        site=site, indication=indication, route=route, metrics=list(metrics))


@st.cache_data(max_entries=256, show_spinner=False)
def by_indication(version: Version, site: str, route: str, period: str, metrics: tuple[str, ...]) -> pl.DataFrame:
    """The metrics for every indication (and 'All') of one site, route and period."""
    return _query(
        version,
        "SELECT * FROM published.metrics WHERE site = $site AND route = $route AND period = $period "
        "AND month = 'All' AND list_contains($metrics, metric) ORDER BY metric, indication",
        site=site, route=route, period=period, metrics=list(metrics))


@st.cache_data(max_entries=256, show_spinner=False)
def by_site(version: Version, indication: str, route: str, period: str, metrics: tuple[str, ...]) -> pl.DataFrame:
    """The metrics for every site (and 'All') of one indication, route and period."""
    return _query(
        version,
        "SELECT * FROM published.metrics WHERE indication = $indication AND route = $route AND period = $period "
        "AND month = 'All' AND list_contains($metrics, metric) ORDER BY metric, site",
        indication=indication, route=route, period=period, metrics=list(metrics))


@st.cache_data(max_entries=256, show_spinner=False)
def event_rates(version: Version, site: str, indication: str, route: str, period: str) -> pl.DataFrame:
    """Events per 100 sessions by term and source (reported, derived, All) over the period."""
    return _query(
        version,
        "SELECT * FROM published.event_rates WHERE site = $site AND indication = $indication AND route = $route "
        "AND period = $period AND month = 'All' "
        "ORDER BY event_term, source",
        site=site, indication=indication, route=route, period=period)


@st.cache_data(max_entries=256, show_spinner=False)
def event_rates_monthly(version: Version, site: str, indication: str, route: str, period: str,
                        event_term: str) -> pl.DataFrame:
    """One term's events (all sources) and sessions month by month, for the u-chart."""
    return _query(
        version,
        "SELECT * FROM published.event_rates WHERE site = $site AND indication = $indication AND route = $route "
        "AND month <> 'All' "
        "AND ($period = 'All' OR period = $period) AND event_term = $term AND source = 'All' ORDER BY month",
        site=site, indication=indication, route=route, period=period, term=event_term)


@st.cache_data(max_entries=256, show_spinner=False)
def dose_response(version: Version, site: str, indication: str, route: str, period: str) -> pl.DataFrame:
    return _query(
        version,
        "SELECT * FROM published.dose_response WHERE site = $site AND indication = $indication AND route = $route "
        "AND period = $period "
        "ORDER BY measure, dose_band",
        site=site, indication=indication, route=route, period=period)


@st.cache_data(max_entries=256, show_spinner=False)
def durability_curves(version: Version, site: str, route: str, period: str) -> pl.DataFrame:
    """Weekly Kaplan-Meier estimates for every indication (and 'All') of one site, route and period."""
    return _query(
        version,
        "SELECT * FROM published.durability_curves WHERE site = $site AND route = $route AND period = $period "
        "ORDER BY indication, week",
        site=site, route=route, period=period)


@st.cache_data(max_entries=256, show_spinner=False)
def durability_at_risk(version: Version, site: str, route: str, period: str) -> pl.DataFrame:
    return _query(
        version,
        "SELECT * FROM published.durability_at_risk WHERE site = $site AND route = $route AND period = $period "
        "ORDER BY indication, week",
        site=site, route=route, period=period)


@st.cache_data(max_entries=256, show_spinner=False)
def score_trajectories(version: Version, site: str, route: str, period: str) -> pl.DataFrame:
    return _query(
        version,
        "SELECT * FROM published.score_trajectories WHERE site = $site AND route = $route AND period = $period "
        "ORDER BY indication, week",
        site=site, route=route, period=period)


@st.cache_data(max_entries=8, show_spinner=False)
def load_history(version: Version) -> pl.DataFrame:
    return _query(version, "SELECT * FROM published.load_history ORDER BY load_number DESC")


@st.cache_data(max_entries=32, show_spinner=False)
def analysis_table(version: Version, name: str) -> pl.DataFrame | None:
    """A model-result table of `kow analyze` (analysis_<name>), or None when it was not published."""
    table = f"analysis_{name}"
    if table not in published_tables(version):
        return None
    # the name was just checked against the file's own catalog; identifiers cannot be bound parameters
    return _query(version, f'SELECT * FROM published."{table}"')  # noqa: S608
