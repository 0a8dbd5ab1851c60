"""run_dashboard(): `streamlit run dashboards/app.py` headless on the published file (what `kow dashboard` calls)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from core.config import Settings
from core.errors import KowError

APP = Path(__file__).resolve().with_name("app.py")


def streamlit_command(published: Path, *, port: int = 8501, extra_args: Sequence[str] = ()) -> list[str]:
    """The command line: headless, no usage statistics, no file watcher (nothing to reload in a deployment).

    ``extra_args`` are Streamlit options (``--server.address 0.0.0.0``); they come after ours so they win.
    The published path goes to the app after ``--``.
    """
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        *extra_args,
        "--", "--published", str(published),
    ]


def dashboard_url(port: int, extra_args: Sequence[str] = ()) -> str:
    args = list(extra_args)
    address = "localhost"
    if "--server.address" in args and args.index("--server.address") + 1 < len(args):
        address = args[args.index("--server.address") + 1]
    return f"http://{address}:{port}/"


def run_dashboard(settings: Settings, *, port: int = 8501, extra_args: Sequence[str] = ()) -> int:
    """Serve the dashboard on settings.published until interrupted; returns Streamlit's exit status.

    Raises KowError when nothing has been published yet. The dashboard never opens the warehouse, so
    `kow build` and `kow analyze` can republish while it runs: it shows the new data at the next click.
    """
    if not settings.published.exists():
        raise KowError(f"Nothing published at {settings.published}. Run `kow build` first (it publishes the "
                       "aggregates the dashboard reads).")
    command = streamlit_command(settings.published, port=port, extra_args=extra_args)
    sys.stdout.write(f"Dashboard: {dashboard_url(port, extra_args)}  (reading {settings.published}; Ctrl-C stops)\n")
    sys.stdout.flush()
    child = subprocess.Popen(command)
    try:
        return child.wait()
    except KeyboardInterrupt:
        # A terminal's Ctrl-C reaches Streamlit too (same process group); a signal sent to us alone does not,
        # so pass it on (a second SIGINT is harmless) and let Streamlit shut down cleanly.
        child.send_signal(signal.SIGINT)
        return child.wait()
