"""Streamlit entry point: ``streamlit run dashboards/app.py -- --published PATH`` (dashboards/serve.py runs it).

The dashboard reads only the published aggregate file (never the warehouse): the path comes from
``--published``, else ``$KOW_PUBLISHED``, else the published file beside the default warehouse.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import streamlit as st

from core.config import resolve_settings
from dashboards import data, filters
from dashboards.labels import suppression_note
from dashboards.views import PAGES

PUBLISHED_ENV = "KOW_PUBLISHED"


def published_path(argv: Sequence[str], environ: Mapping[str, str]) -> Path:
    """--published PATH, else $KOW_PUBLISHED, else settings.published of the default warehouse."""
    parser = argparse.ArgumentParser(prog="dashboards/app.py", add_help=False)
    parser.add_argument("--published", type=Path, default=None)
    args, _ = parser.parse_known_args(list(argv))
    if args.published:
        return args.published.expanduser().resolve()
    if environ.get(PUBLISHED_ENV):
        return Path(environ[PUBLISHED_ENV]).expanduser().resolve()
    return resolve_settings(environ=environ).published


def main(published: Path, *, start: str = "overview") -> None:
    """One script run: page config, navigation, the filters, then the chosen page."""
    st.set_page_config(page_title="kow · ketamine outcomes", page_icon=":material/monitoring:", layout="wide")
    navigation = st.navigation([
        st.Page(page.render, title=page.title, icon=page.icon, url_path=page.slug, default=page.slug == start)
        for page in PAGES
    ])
    try:
        version = data.version_of(published)
    except FileNotFoundError:
        st.title("Ketamine Outcomes Warehouse")
        st.info(f"Nothing published yet at {published}. Run `kow build` (and `kow analyze`) to publish the "
                "aggregates this dashboard reads.")
        return
    try:
        run = filters.render_sidebar(version)
        st.sidebar.caption(f"Data {run.about.get('first_month', '?')} to {run.about.get('last_month', '?')}. "
                           + suppression_note(run.about))
        navigation.run()
    except data.StaleVersion:  # a publish landed while this run opened the file: start again on the new one
        st.rerun()


if __name__ == "__main__":
    main(published_path(sys.argv[1:], os.environ))
