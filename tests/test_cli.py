"""The `spotify-assets` commands, run as a listener runs them: a subprocess on a fresh data dir."""

import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from conftest import cli_environment
from spotify_assets.synthetic.exports import SyntheticHistory

CLI = str(Path(sys.executable).with_name("spotify-assets"))


def _run(*arguments, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *arguments], env=cli_environment(data_dir), capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_import_runs_in_the_shared_instance_and_prints_the_report(small_history, tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    exports = [str(small_history.exports[0].path), str(small_history.exports[3].path)]  # a zip and a folder
    completed = _run("import", *exports, data_dir=data_dir)
    assert completed.returncode == 0, completed.stderr
    # The command's fast exit still runs the exit handlers: nothing reports leaked semaphores.
    assert "resource_tracker" not in completed.stderr, completed.stderr
    zip_rows = sum(small_history.exports[0].raw_rows.values())
    assert f"{zip_rows:,} records accepted" in completed.stdout
    assert f"{small_history.exports[3].raw_rows['standard_music_streams']:,} records accepted" in completed.stdout

    monkeypatch.setenv("DAGSTER_HOME", str(data_dir / "dagster_home"))  # dagster.yaml stores runs under it
    instance = DagsterInstance.get()
    runs = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.SUCCESS]))
    assert sorted(r.job_name for r in runs) == ["build_warehouse_job", "import_spotify_export_job", "import_spotify_export_job"]
    assert len(instance.get_dynamic_partitions("spotify_exports")) == 2
    instance.dispose()


def test_a_missing_path_fails_with_one_line(tmp_path):
    completed = _run("import", str(tmp_path / "nope.zip"), data_dir=tmp_path / "data")
    assert completed.returncode == 1
    assert completed.stderr.strip() == f"spotify-assets import: no such file or folder: {tmp_path / 'nope.zip'}"


def test_a_bad_time_zone_fails_with_the_setting_name(tmp_path):
    environment = cli_environment(tmp_path) | {"SPOTIFY_TIMEZONE": "Mars/Olympus"}
    completed = subprocess.run([CLI, "summary"], env=environment, capture_output=True, text=True)
    assert completed.returncode == 1 and "SPOTIFY_TIMEZONE='Mars/Olympus'" in completed.stderr


@pytest.mark.slow
def test_demo_imports_the_synthetic_export_and_reruns_harmlessly(tmp_path):
    data_dir = tmp_path / "data"
    first = _run("demo", "--plays", "1500", data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    history = SyntheticHistory.generate(plays=1500, seed=42)
    history.write_exports(tmp_path / "expected")
    for table, count in history.expected_raw_rows().items():
        assert f"raw.{table}" in first.stdout and f"{count:,}" in first.stdout.split(f"raw.{table}")[1].splitlines()[0]
    assert (data_dir / "synthetic" / "ground_truth.csv.gz").exists()
    second = _run("demo", "--plays", "1500", data_dir=data_dir)
    assert second.returncode == 0, second.stderr
    assert second.stdout.split("raw records by table:")[1] == first.stdout.split("raw records by table:")[1]


def test_dbt_sends_no_usage_events(demo_data_dir):
    """dbt's anonymous usage tracking is off (dbt_project.yml flags): the warehouse makes no calls home."""
    log = (demo_data_dir / "dbt_target" / "build" / "dbt.log").read_text()
    assert "'send_anonymous_usage_stats': 'False'" in log
    assert "Sending event" not in log
