"""A load that fails or is killed half-way leaves the warehouse exactly as it was."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from core.errors import KowError
from ingest.load import load_source
from tests.conftest import GOOD_SOURCE, raw_counts, table_fingerprints

NEWER_SESSIONS = GOOD_SOURCE["sessions"] + "V4,P3,2024-03-01,IM,40,80,,,,,,,,,,\n"


class InjectedFailure(RuntimeError):
    pass


def _fail_at(step: int):
    seen = 0

    def on_progress(steps: int) -> None:
        nonlocal seen
        seen += steps
        if seen == step:
            raise InjectedFailure(f"injected at step {step}")

    return on_progress


@pytest.mark.parametrize("step", [7, 8, 10])  # checks take steps 1-5; 6-10 insert one table each
def test_failure_mid_load_rolls_back_to_the_previous_load(write_source, settings, step):
    load_source(write_source(), settings)
    before = table_fingerprints(settings.warehouse)

    with pytest.raises(InjectedFailure):
        load_source(write_source(sessions=NEWER_SESSIONS), settings, on_progress=_fail_at(step))

    assert table_fingerprints(settings.warehouse) == before
    assert raw_counts(settings.warehouse)["sessions"] == 3


def test_kill_mid_load_leaves_previous_state_intact(write_source, settings):
    load_source(write_source(), settings)
    before = table_fingerprints(settings.warehouse)
    newer = write_source(sessions=NEWER_SESSIONS)
    # A real crash: the process SIGKILLs itself after inserting three tables of the newer export.
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from core.config import resolve_settings
        from ingest.load import load_source
        seen = 0
        def on_progress(steps):
            global seen
            seen += steps
            if seen == 8:
                os.kill(os.getpid(), signal.SIGKILL)
        load_source(Path({str(newer)!r}), resolve_settings({str(settings.warehouse)!r}, environ={{}}),
                    on_progress=on_progress)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120, check=False)

    assert done.returncode == -9
    assert table_fingerprints(settings.warehouse) == before
    # and the warehouse still takes the newer export afterwards
    load_source(newer, settings)
    assert raw_counts(settings.warehouse)["sessions"] == 4


def test_warehouse_held_by_another_writer_gives_a_clear_error(write_source, settings):
    load_source(write_source(), settings)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(settings.warehouse)!r})
        print("ready", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(KowError, match="Is another kow command running"):
            load_source(write_source(sessions=NEWER_SESSIONS), settings)
    finally:
        holder.kill()
        holder.wait()
