"""The project's instance keeps its SQLite connections open, in the very files `storage: sqlite` uses."""

import os
from pathlib import Path

import pytest
from dagster import (
    AssetCheckResult,
    AssetKey,
    DagsterInstance,
    asset,
    asset_check,
    materialize,
)
from dagster._core.instance.ref import InstanceRef

from spotify_assets.instance.home import PROJECT_INSTANCE_CONFIG
from spotify_assets.instance.storage import (
    PooledSqliteEventLogStorage,
    PooledSqliteRunStorage,
)


@asset
def counted_asset() -> int:
    return 1


@asset_check(asset=counted_asset)
def counted_asset_is_positive() -> AssetCheckResult:
    return AssetCheckResult(passed=True)


def _instance(home: Path, config: str) -> DagsterInstance:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(config)
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


@pytest.fixture
def homes(tmp_path, monkeypatch):
    """The project's dagster.yaml, and a stock `storage: sqlite` instance over the same base folder."""
    project_home = tmp_path / "project_home"
    monkeypatch.setenv("DAGSTER_HOME", str(project_home))
    pooled = _instance(project_home, PROJECT_INSTANCE_CONFIG.read_text())
    stock = _instance(tmp_path / "stock_home", f"storage:\n  sqlite:\n    base_dir: {project_home}\n")
    yield pooled, stock
    pooled.dispose()
    stock.dispose()


def test_the_project_instance_uses_the_pooled_storage(homes):
    pooled, _ = homes
    assert isinstance(pooled.event_log_storage, PooledSqliteEventLogStorage)
    assert isinstance(pooled.run_storage, PooledSqliteRunStorage)


def test_runs_written_through_open_connections_read_the_same_from_stock_storage_and_back(homes):
    pooled, stock = homes
    # More runs than the event databases kept open, so some are closed and opened again on the way.
    for _ in range(10):
        assert materialize([counted_asset, counted_asset_is_positive], instance=pooled).success
    assert materialize([counted_asset, counted_asset_is_positive], instance=stock).success
    for instance in (pooled, stock):
        runs = instance.get_runs()
        assert len(runs) == 11 and all(run.is_success for run in runs)
        assert all(len(instance.get_records_for_run(run.run_id).records) > 10 for run in runs)
        assert len(instance.fetch_materializations(AssetKey("counted_asset"), limit=100).records) == 11
        check_key = counted_asset_is_positive.check_key
        assert instance.event_log_storage.get_latest_asset_check_execution_by_key([check_key])[check_key].run_id == runs[0].run_id
    first_pooled = pooled.get_runs()[-1]
    assert stock.get_run_by_id(first_pooled.run_id).is_success  # an old run's database, reopened by the other
    assert os.path.exists(Path(pooled.root_directory) / "history" / "runs.db")


def test_many_threads_read_at_once_as_the_ui_does(homes):
    """The UI reads the run storage from many threads: beyond the one kept connection, more are opened."""
    from concurrent.futures import ThreadPoolExecutor

    pooled, _ = homes
    assert materialize([counted_asset, counted_asset_is_positive], instance=pooled).success
    run_id = pooled.get_runs()[0].run_id

    def read(_) -> int:
        return len(pooled.get_runs()) + len(pooled.get_records_for_run(run_id).records)

    with ThreadPoolExecutor(max_workers=16) as threads:
        counts = list(threads.map(read, range(64)))
    assert len(set(counts)) == 1 and counts[0] > 10
