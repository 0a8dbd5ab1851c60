"""The SQL of the models and singular tests passes sqlfluff (dialect duckdb, the committed .sqlfluff)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.definitions import PROJECT_DIR


@pytest.mark.xdist_group("models_lint")
def test_models_pass_sqlfluff(tmp_path: Path):
    # The dbt templater compiles with profiles.yml's `lint` target (in-memory DuckDB: no warehouse, no
    # lock); dbt's target/ and logs go to tmp_path so the checkout stays untouched.
    env = {
        **os.environ,
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    sqlfluff = Path(sys.executable).with_name("sqlfluff")
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [str(sqlfluff), "lint", "models", "tests/dbt", "--format", "json", "--nofail"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    files = json.loads(result.stdout)
    assert len(files) >= 25  # every model and singular test was linted
    violations = [
        f"{f['filepath']}:{v['start_line_no']} {v['code']} {v['description']}"
        for f in files for v in f["violations"]
    ]
    assert violations == []
