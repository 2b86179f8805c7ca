"""dbt inside the Dagster process reports what dagster-dbt's own (subprocess) path reports for the same selection:
the same models materialized, the same tests as the same checks with the same outcomes."""

import shutil
import sys
from pathlib import Path

import pytest
from dagster import AssetSelection, DagsterInstance, materialize
from dagster_dbt import DbtCliResource, dbt_assets

from spotify_assets.definitions import defs
from spotify_assets.defs.transformations.assets import (
    WarehouseTranslator,
    warehouse_models,
)
from spotify_assets.defs.transformations.project import dbt_project
from spotify_assets.settings import SpotifySettings

pytestmark = pytest.mark.slow


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=WarehouseTranslator(),
            name="public_models")
def public_models(context, dbt: DbtCliResource):
    arguments = ["build", "--exclude-resource-type", "unit_test", "--vars", '{"key_tests_cover": "newest_batch"}']
    yield from dbt.cli(arguments, context=context).stream()


def _outcomes(result) -> tuple[set[str], set[tuple]]:
    """The dbt models materialized (not the published file or the report), and each check's outcome."""
    materialized = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()
                    if event.asset_key.path[0] not in ("published", "reports")}
    checks = {(check.asset_key.to_user_string(), check.check_name, check.passed, check.severity.value)
              for check in result.get_asset_check_evaluations()}
    return materialized, checks


def test_a_polls_update_reports_the_models_and_checks_dagster_dbt_reports(demo_data_dir, tmp_path, monkeypatch):
    from conftest import DEMO_ZONE

    in_process, public = tmp_path / "in_process", tmp_path / "public"
    shutil.copytree(demo_data_dir, in_process)
    shutil.copytree(demo_data_dir, public)
    monkeypatch.setenv("SPOTIFY_TIMEZONE", DEMO_ZONE)

    monkeypatch.setenv("SPOTIFY_DATA_DIR", str(in_process))
    update = defs.resolve_job_def("update_after_poll_job").execute_in_process(instance=DagsterInstance.ephemeral())
    assert update.success
    materialized, checks = _outcomes(update)
    assert materialized and checks and len(materialized) < len(warehouse_models.keys)  # a part, with its key tests
    assert {name for _, name, _, _ in checks} <= {spec.name for spec in warehouse_models.check_specs
                                                  if spec.name.startswith(("unique", "not_null"))}

    monkeypatch.setenv("SPOTIFY_DATA_DIR", str(public))
    for name, value in SpotifySettings().dbt_environment().items():
        monkeypatch.setenv(name, value)  # dagster-dbt's dbt process reads them from the environment
    selection = (AssetSelection.assets(*[key for key in public_models.keys if key.to_user_string() in materialized])
                 .without_checks()
                 | AssetSelection.checks(*[key for key in public_models.check_keys
                                          if any(key.name == name for _, name, _, _ in checks)]))
    dbt = DbtCliResource(project_dir=dbt_project, dbt_executable=str(Path(sys.executable).with_name("dbt")))
    reference = materialize([public_models], selection=selection, resources={"dbt": dbt},
                            instance=DagsterInstance.ephemeral())
    assert reference.success
    assert _outcomes(reference) == (materialized, checks)


def test_a_connection_left_in_a_reference_cycle_does_not_stop_the_next_read(tmp_path):
    """A dbt Python model's relations can keep dbt's read-write connection alive in a reference cycle after dbt let go
    of it; opening the warehouse read-only for the build's metadata then failed now and then ("different
    configuration than existing connections") until the heap was next collected."""
    import gc

    import duckdb

    from spotify_assets.lib.warehouse import warehouse_connection

    settings = SpotifySettings(data_dir=str(tmp_path / "data"))
    settings.data_path.mkdir(parents=True)
    gc.disable()  # the cycle outlives this test's statements, as it outlives dbt's command until the next collection
    try:
        cycle = {"connection": duckdb.connect(str(settings.warehouse_path))}
        cycle["self"] = cycle
        cycle["connection"].execute("CREATE TABLE plays AS SELECT 1 AS n")
        del cycle
        with warehouse_connection(settings, read_only=True) as connection:
            assert connection.execute("SELECT n FROM plays").fetchall() == [(1,)]
    finally:
        gc.enable()
