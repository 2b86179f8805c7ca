"""dbt's unit tests (deduplication, normalization, DST: dbt_project/models/intermediate/_intermediate__unit_tests.yml).

They test the SQL's logic on fixed inputs, not the data, so routine builds skip them (they cost a second per
build); here they run against the warehouse the demo built, which gives them the input tables' column types."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_ROOT

UNIT_TESTS = PROJECT_ROOT / "dbt_project" / "models" / "intermediate" / "_intermediate__unit_tests.yml"

pytestmark = pytest.mark.slow


def test_every_dbt_unit_test_passes(demo_data_dir):
    environment = {**os.environ, "SPOTIFY_WAREHOUSE_PATH": str(demo_data_dir / "warehouse.duckdb"),
                   "SPOTIFY_WAREHOUSE_MARTS_PATH": str(demo_data_dir / "warehouse_marts.duckdb"), "SPOTIFY_TIMEZONE": "UTC"}
    completed = subprocess.run([str(Path(sys.executable).with_name("dbt")), "test", "--select", "test_type:unit",
                                "--target-path", str(demo_data_dir / "unit_test_target")],
                               cwd=PROJECT_ROOT / "dbt_project", env=environment, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout[-3000:]
    unit_tests = yaml.safe_load(UNIT_TESTS.read_text())["unit_tests"]
    assert f"PASS={len(unit_tests)}" in completed.stdout  # every unit test ran
