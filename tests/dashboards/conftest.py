"""Fixtures for the published file and the Streamlit pages: one generated clinic per worker, caches cleared."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import streamlit as st

from core.config import Settings
from tests.dashboards.clinic import built_clinic


@pytest.fixture(scope="session")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A 1,500-patient generated clinic, built and published once; tests only read it."""
    return built_clinic(tmp_path_factory.getbasetemp())


@pytest.fixture(autouse=True)
def fresh_streamlit_caches() -> Iterator[None]:
    """AppTest runs in-process and shares Streamlit's caches between tests (stack-notes.md)."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
