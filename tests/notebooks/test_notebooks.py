"""The notebooks in notebooks/: stored without outputs, executed end to end on the shared generated clinic.

The kernel is python3 from this venv (ipykernel is installed here); it finds the warehouse through
KOW_WAREHOUSE in its own environment, as an analyst's would, and runs in a temp folder.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from core.config import Settings
from tests.cohorts.clinic import CLINIC_GROUP, REPOSITORY

pytestmark = pytest.mark.xdist_group(CLINIC_GROUP)
NOTEBOOKS = REPOSITORY / "notebooks"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _execute(name: str, warehouse: Path, cwd: Path) -> str:
    """Run the notebook; return the text of every output (stdout, results) for assertions."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(notebook, timeout=600, startup_timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}})
    try:
        # importing streamlit (the dashboard tests do) sets MPLBACKEND=Agg process-wide; an analyst's kernel
        # has no such setting, and with it figures would not be shown inline
        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
        client.execute(env=env | {"KOW_WAREHOUSE": str(warehouse)})
    except CellExecutionError as exc:
        pytest.fail(f"{name} failed:\n{ANSI.sub('', str(exc))[-3000:]}")
    texts, images = [], 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
            images += "image/png" in output.get("data", {})
    return "\n".join(texts) + f"\n[{images} images]"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert notebook.metadata["kernelspec"]["name"] == "python3"


def test_notebook_cohort_comparison_runs_and_compares(clinic: Settings, tmp_path: Path) -> None:
    text = _execute("cohort_comparison.ipynb", clinic.warehouse, tmp_path)
    assert "include route in IV" in text
    assert "include route in INTRANASAL" in text
    assert "newcombe_hybrid_score" in text
    assert "mover_exact_poisson" in text
    assert "[2 images]" in text


def test_notebook_durability_deep_dive_runs(clinic: Settings, tmp_path: Path) -> None:
    text = _execute("durability_deep_dive.ipynb", clinic.warehouse, tmp_path)
    assert "still_responding" in text
    assert "day 28" in text
    assert "median_followup_scores" in text
    assert "[2 images]" in text


def test_notebook_add_an_instrument_rebuilds_a_copy_and_leaves_the_repository(clinic: Settings,
                                                                            tmp_path: Path) -> None:
    seeds = REPOSITORY / "seeds" / "instruments.csv"
    before = hashlib.sha256(seeds.read_bytes()).hexdigest()
    warehouse_before = hashlib.sha256(clinic.warehouse.read_bytes()).hexdigest()
    text = _execute("add_an_instrument.ipynb", clinic.warehouse, tmp_path)
    assert "HAMD17" in text
    assert "repository seeds unchanged: True" in text
    assert re.search(r"Done\. PASS=\d+ WARN=\d+ ERROR=0", text)
    assert hashlib.sha256(seeds.read_bytes()).hexdigest() == before
    assert hashlib.sha256(clinic.warehouse.read_bytes()).hexdigest() == warehouse_before
    assert list(tmp_path.iterdir()) == []  # the kernel's working folder: nothing left behind
