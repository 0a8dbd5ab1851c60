"""kow.export: mart rows and suppressed aggregates with manifests; the dbt docs site."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import urllib.request
from pathlib import Path

import polars as pl
import pytest

from core.config import Settings
from core.definitions import load_definitions
from core.errors import KowError
from kow.export import export_warehouse, serve_dbt_docs
from tests.cohorts.clinic import CLINIC_GROUP, REPOSITORY, private_copy, read_table

pytestmark = pytest.mark.xdist_group(CLINIC_GROUP)
TRD = REPOSITORY / "cohorts" / "trd_only.yaml"
MIN_CELL = load_definitions().min_cell_size


def test_export_cohort_rows_and_aggregates_with_manifests(clinic: Settings, tmp_path: Path) -> None:
    summary = export_warehouse(clinic, cohort=TRD, fmt="csv", out_dir=tmp_path)
    trd = read_table(clinic, "SELECT c.patient_id, c.course_number FROM marts.fct_courses c "
                             "JOIN marts.dim_patients p USING (patient_id) WHERE p.indication = 'TRD'")
    sessions = read_table(clinic, "SELECT patient_id, course_number FROM marts.fct_sessions").join(
        trd, on=["patient_id", "course_number"], how="semi")
    rows = tmp_path / "rows"
    assert pl.read_csv(rows / "fct_courses.csv").height == trd.height
    assert pl.read_csv(rows / "fct_sessions.csv").height == sessions.height
    assert pl.read_csv(rows / "dim_patients.csv").height == trd["patient_id"].n_unique()
    for folder in ("rows", "aggregates"):
        manifest = json.loads((tmp_path / folder / "manifest.json").read_text())
        assert manifest["kind"] == folder
        assert manifest["cohort"]["name"] == "trd_only"
        assert manifest["definitions"]["min_cell_size"] == MIN_CELL
        assert [load["load_id"] for load in manifest["loads"]] == \
            read_table(clinic, "SELECT load_id FROM raw.loads ORDER BY finished_at")["load_id"].to_list()
        for entry in manifest["files"]:
            path = tmp_path / folder / entry["path"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
            assert entry["rows"] == (pl.read_csv(path).height)
    assert "never share it outside" in summary.describe()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aggregates", "rows"]  # no partial folders left


def test_export_aggregates_only_hold_no_ids_and_no_small_counts(clinic: Settings, tmp_path: Path) -> None:
    export_warehouse(clinic, cohort=None, fmt="parquet", out_dir=tmp_path, aggregates_only=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aggregates"]
    table = pl.read_parquet(tmp_path / "aggregates" / "summary.parquet")
    assert set(table["group_by"]) == {"all", "indication", "site"}
    text = table.write_csv()
    assert not re.search(r"-P\d{7}", text)  # no patient id
    counts = [v for v in table["count"].to_list() + table["denominator"].to_list() if v is not None]
    assert all(v in (f"<{MIN_CELL}", "suppressed") or int(v) >= MIN_CELL for v in counts)  # zero included
    assert "0" not in counts
    assert f"<{MIN_CELL}" in counts
    manifest = json.loads((tmp_path / "aggregates" / "manifest.json").read_text())
    assert manifest["suppression"]["min_cell_size"] == MIN_CELL
    assert manifest["suppression"]["rule"].startswith(f"counts 0-{MIN_CELL - 1} show as")
    assert manifest["warehouse"] == clinic.warehouse.name  # no local path goes outside


def test_export_again_replaces_the_folder(clinic: Settings, tmp_path: Path) -> None:
    export_warehouse(clinic, cohort=TRD, fmt="parquet", out_dir=tmp_path)
    first = json.loads((tmp_path / "rows" / "manifest.json").read_text())
    export_warehouse(clinic, cohort=TRD, fmt="parquet", out_dir=tmp_path)
    second = json.loads((tmp_path / "rows" / "manifest.json").read_text())
    assert [f["sha256"] for f in first["files"]] == [f["sha256"] for f in second["files"]]  # deterministic
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aggregates", "rows"]


def test_export_refuses_an_unknown_format(clinic: Settings, tmp_path: Path) -> None:
    with pytest.raises(KowError, match="--format must be one of csv, parquet"):
        export_warehouse(clinic, cohort=None, fmt="xlsx", out_dir=tmp_path)


def test_serve_dbt_docs_generates_and_serves_the_site(clinic: Settings, tmp_path: Path) -> None:
    copy = private_copy(clinic, tmp_path / "copy")  # dbt writes target/ beside the warehouse it documents
    urls: list[str] = []
    ready, stop = threading.Event(), threading.Event()
    ports: list[int] = []

    def serve() -> None:
        ports.append(serve_dbt_docs(copy, 0, ready=lambda url: (urls.append(url), ready.set()), stop=stop))

    worker = threading.Thread(target=serve)
    worker.start()
    try:
        assert ready.wait(180), "docs never came up"
        with urllib.request.urlopen(urls[0], timeout=10) as response:  # noqa: S310 - our localhost URL
            assert b"dbt" in response.read()
        with urllib.request.urlopen(urls[0] + "catalog.json", timeout=10) as response:  # noqa: S310
            assert "model.kow.fct_courses" in json.loads(response.read())["nodes"]
    finally:
        stop.set()
        worker.join(30)
    assert ports
    assert urls[0].endswith(f":{ports[0]}/")
