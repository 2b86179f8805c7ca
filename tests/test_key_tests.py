"""A poll's key tests look only at the keys its run wrote (dbt_project/macros/key_tests.sql); every other build
checks every row. Both run here through dbt itself, on a copy of the demo's warehouse with duplicates planted."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow
KEY_TESTS = ["unique_per_listener_fct_plays_play_id",
             "unique_combination_agg_track_buckets_listener__bucket_grain__bucket_start__track_key"]


def _failing_key_tests(warehouse: Path, target: Path, newest_batch_only: bool) -> set[str]:
    environment = {**os.environ, "SPOTIFY_WAREHOUSE_PATH": str(warehouse / "warehouse.duckdb"),
                   "SPOTIFY_WAREHOUSE_MARTS_PATH": str(warehouse / "warehouse_marts.duckdb"), "SPOTIFY_TIMEZONE": "UTC"}
    scope = ["--vars", '{"key_tests_cover": "newest_batch"}'] if newest_batch_only else []
    completed = subprocess.run([str(Path(sys.executable).with_name("dbt")), "test", "--select", *KEY_TESTS,
                                "--target-path", str(target), *scope],
                               cwd=PROJECT_ROOT / "dbt_project", env=environment, capture_output=True, text=True)
    assert f"TOTAL={len(KEY_TESTS)}" in completed.stdout, completed.stdout[-3000:]
    return {test for test in KEY_TESTS if f"FAIL 1 {test}" in completed.stdout}


def test_a_polls_key_tests_find_duplicates_of_the_rows_it_wrote_and_builds_find_every_duplicate(demo_data_dir, tmp_path):
    warehouse = tmp_path / "warehouse"  # both files: raw and the layers dbt reads, and the marts
    warehouse.mkdir()
    for name in ("warehouse.duckdb", "warehouse_marts.duckdb"):
        shutil.copyfile(demo_data_dir / name, warehouse / name)
    target = tmp_path / "target"
    with duckdb.connect(str(warehouse / "warehouse_marts.duckdb")) as connection:
        # A later run wrote one play and one bucket row (new keys), so the newest batch is those two rows...
        for table, new_key in (("fct_plays", "play_id || '-polled' AS play_id"),
                               ("agg_track_buckets", "track_key || '-polled' AS track_key")):
            connection.execute(f"INSERT INTO {table} SELECT * REPLACE ({new_key}, "
                               f"batch_at + INTERVAL 1 HOUR AS batch_at) FROM {table} LIMIT 1")
            # ... and an older row is there twice, which that run did not write.
            connection.execute(f"INSERT INTO {table} FROM {table} "
                               f"WHERE batch_at < (SELECT max(batch_at) FROM {table}) LIMIT 1")
    assert _failing_key_tests(warehouse, target, newest_batch_only=False) == set(KEY_TESTS)
    assert _failing_key_tests(warehouse, target, newest_batch_only=True) == set()

    with duckdb.connect(str(warehouse / "warehouse_marts.duckdb")) as connection:  # the later run wrote an existing key once more
        for table in ("fct_plays", "agg_track_buckets"):
            connection.execute(f"INSERT INTO {table} SELECT * REPLACE ((SELECT max(batch_at) FROM {table}) "
                               f"AS batch_at) FROM {table} WHERE batch_at < (SELECT max(batch_at) FROM {table}) "
                               "ORDER BY ALL DESC LIMIT 1")
    assert _failing_key_tests(warehouse, target, newest_batch_only=True) == set(KEY_TESTS)
