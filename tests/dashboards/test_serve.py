"""run_dashboard(): the `kow dashboard` entry point runs `streamlit run dashboards/app.py` headless."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.config import Settings, resolve_settings
from core.errors import KowError
from dashboards.serve import APP, dashboard_url, run_dashboard, streamlit_command
from tests.dashboards.clinic import CLINIC_GROUP


def test_streamlit_command_is_headless_and_passes_the_published_file_after_the_options(tmp_path: Path):
    published = tmp_path / "published.duckdb"
    command = streamlit_command(published, port=8999, extra_args=["--server.address", "0.0.0.0"])
    assert command[:5] == [sys.executable, "-m", "streamlit", "run", str(APP)]
    options = command[5:command.index("--")]
    assert options[options.index("--server.headless") + 1] == "true"
    assert options[options.index("--server.port") + 1] == "8999"
    assert options[options.index("--browser.gatherUsageStats") + 1] == "false"
    assert options[-2:] == ["--server.address", "0.0.0.0"]
    assert command[command.index("--") + 1:] == ["--published", str(published)]


def test_dashboard_url_follows_the_address_option():
    assert dashboard_url(8501) == "http://localhost:8501/"
    assert dashboard_url(8600, ["--server.address", "10.0.0.5"]) == "http://10.0.0.5:8600/"


def test_run_dashboard_refuses_when_nothing_is_published(tmp_path: Path):
    with pytest.raises(KowError, match="Run `kow build` first"):
        run_dashboard(resolve_settings(tmp_path / "kow.duckdb", environ={}))


@pytest.mark.xdist_group(CLINIC_GROUP)
def test_run_dashboard_serves_prints_the_url_and_returns_the_exit_status_on_interrupt(clinic: Settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = ("import sys; from pathlib import Path; from core.config import resolve_settings; "
            "from dashboards.serve import run_dashboard; "
            f"sys.exit(run_dashboard(resolve_settings(Path({str(clinic.warehouse)!r}), environ={{}}), port={port}))")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert child.stdout is not None
        first_line = child.stdout.readline().decode()
        assert first_line.startswith(f"Dashboard: http://localhost:{port}/")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the dashboard never became healthy")
        child.send_signal(signal.SIGINT)  # Ctrl-C
        assert child.wait(timeout=30) == 0
    finally:
        if child.poll() is None:
            child.kill()
