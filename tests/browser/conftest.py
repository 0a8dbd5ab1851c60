"""A real `streamlit run` server (the command run_dashboard uses) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from core.config import Settings
from dashboards.serve import streamlit_command
from tests.dashboards.clinic import built_clinic, private_copy

CHROMIUM = Path("/usr/bin/chromium")  # Playwright cannot download its own browser offline (stack-notes.md)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"  # reports/ is ignored by git


@pytest.fixture(scope="session")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return built_clinic(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def served(clinic: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """The dashboard served on a free port over a private copy of the published file (tests republish it)."""
    mine = private_copy(clinic, tmp_path_factory.mktemp("served"))
    port = _free_port()
    log = (mine.published.parent / "streamlit.log").open("wb")
    server = subprocess.Popen(streamlit_command(mine.published, port=port), stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(port, server)
        yield f"http://localhost:{port}/", mine
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it: apt-get install chromium)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def screenshot_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Screenshots go to the test run's tmp folder and are copied to reports/screenshots/ for people."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return tmp_path_factory.mktemp("screenshots"), SCREENSHOTS


def save_screenshot(source: Path, dirs: tuple[Path, Path]) -> None:
    shutil.copy2(source, dirs[1] / source.name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(port: int, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("streamlit did not become healthy")
