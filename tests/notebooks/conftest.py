"""The shared generated clinic (tests/cohorts/clinic.py) as a session fixture."""

from __future__ import annotations

import pytest

from core.config import Settings
from tests.cohorts.clinic import shared_clinic


@pytest.fixture(scope="session")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return shared_clinic(tmp_path_factory)
