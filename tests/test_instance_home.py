"""The instance's home: seeded on first use, opened without touching the process's environment, and homes seeded by
earlier versions (whose dagster.yaml named a storage class that is gone) keep their runs."""

import os

from dagster import DagsterInstance, DagsterRunStatus

from spotify_assets.instance.home import (
    PROJECT_INSTANCE_CONFIG,
    dagster_home,
    get_instance,
)
from spotify_assets.settings import SpotifySettings

EARLIER_SEED = """storage:
  custom:
    module: spotify_assets.instance_storage
    class: PooledSqliteStorage
    config:
      base_dir:
        env: DAGSTER_HOME
telemetry:
  enabled: false
"""


def test_a_new_home_is_seeded_and_opened_without_setting_dagster_home(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings = SpotifySettings(data_dir=str(tmp_path / "data"))
    home = dagster_home(settings)
    assert home == tmp_path / "data" / "dagster_home"
    assert (home / "dagster.yaml").read_text() == PROJECT_INSTANCE_CONFIG.read_text()
    instance = get_instance(settings)
    assert "DAGSTER_HOME" not in os.environ
    assert instance.root_directory == str(home) and (home / "history" / "runs.db").exists()


def test_a_home_seeded_by_an_earlier_version_keeps_its_runs(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(f"storage:\n  sqlite:\n    base_dir: {home}\n")
    earlier = DagsterInstance.from_config(str(home))
    run = earlier.create_run_for_job(_job(), status=DagsterRunStatus.SUCCESS)
    earlier.dispose()
    (home / "dagster.yaml").write_text(EARLIER_SEED)

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = get_instance(SpotifySettings(data_dir=str(tmp_path / "data")))
    assert instance.get_run_by_id(run.run_id) is not None
    assert (home / "dagster.yaml").read_text() == PROJECT_INSTANCE_CONFIG.read_text()


def _job():
    from dagster import job, op

    @op
    def nothing() -> None:
        return None

    @job
    def earlier_job():
        nothing()

    return earlier_job
