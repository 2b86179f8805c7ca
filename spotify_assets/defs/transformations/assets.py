"""Every dbt model as a Dagster asset, its tests as asset checks, all in the warehouse pool.

dbt reads the warehouse path and time zone from the environment (see dbt_project/profiles.yml); we
hand it the values the settings resolve, so dbt and the Python assets always agree on both.
"""

from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey, Config, Failure, MaterializeResult
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets

from spotify_assets.defs.transformations.metadata import model_metadata
from spotify_assets.defs.transformations.project import dbt_project
from spotify_assets.defs.transformations.resources import WarehouseDbtResource
from spotify_assets.lib.exports.removal import finish_removals
from spotify_assets.lib.listeners import listener_names, write_listeners
from spotify_assets.lib.raw_tables import create_raw_tables
from spotify_assets.lib.transformations import build_state
from spotify_assets.lib.warehouse import WAREHOUSE_POOL, warehouse_connection
from spotify_assets.settings import SpotifySettings


class WarehouseTranslator(DagsterDbtTranslator):
    """Groups follow the dbt layers (staging, intermediate, marts; seeds are sources of reference data);
    models follow their inputs; each asset links to its SQL file."""

    def __init__(self):
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_code_references=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        # Models by their layer, whatever schema they land in (the marts sit in their own file's main schema).
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props["resource_type"] == "model" and len(fqn) > 2:
            return AssetKey([fqn[1], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 and dbt_resource_props["resource_type"] != "seed" else "sources"

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        # The model's own description; its SQL is one click away (code references), not pasted in.
        return dbt_resource_props.get("description") or f"dbt {dbt_resource_props['resource_type']} {dbt_resource_props['name']}"


class WarehouseBuildConfig(Config):
    """Routine runs are incremental; a full refresh rebuilds every model from landing's raw tables
    (after a change to the models, or after removing data). A poll's update checks keys only where the run wrote
    rows (dbt_project/macros/key_tests.sql says why that finds every duplicate the run could make)."""

    full_refresh: bool = False
    key_tests_newest_batch_only: bool = False


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=WarehouseTranslator(),
            pool=WAREHOUSE_POOL)
def warehouse_models(context: AssetExecutionContext, config: WarehouseBuildConfig, dbt: WarehouseDbtResource,
                     spotify_settings: SpotifySettings):
    fingerprint = build_state.current_fingerprint(spotify_settings)
    # Every model selected (context.assets_def is the subset itself in a partial run; this name is the whole).
    whole_warehouse = set(context.selected_asset_keys) == set(warehouse_models.keys)
    # Every raw table exists before dbt reads it, even for a source that has sent nothing yet.
    with warehouse_connection(spotify_settings) as connection:
        create_raw_tables(connection)
        write_listeners(connection, spotify_settings.data_path, spotify_settings.warehouse_timezone_name)
        for listener in listener_names(spotify_settings.data_path):  # a removal that stopped half-way
            for name in finish_removals(connection, spotify_settings.for_listener(listener).exports_landing_path):
                context.log.info(f"Finished removing {name}.")
        stale = build_state.stale_reason(spotify_settings, fingerprint, connection)
    full_refresh = config.full_refresh
    if stale:
        if not whole_warehouse:
            raise Failure(description=f"{stale}: run `spotify-assets build` once, which rebuilds every model; "
                          "this partial update would mix old and new figures")
        context.log.warning(f"{stale}: rebuilding every model from raw (dbt build --full-refresh)")
        full_refresh = True
    if full_refresh and whole_warehouse:
        build_state.clear_marts(spotify_settings)
    # Unit tests check the SQL's logic, not the data: the test suite runs them (tests/test_dbt_unit_tests.py).
    arguments = ["build", "--exclude-resource-type", "unit_test", *(["--full-refresh"] if full_refresh else [])]
    every_check = set(context.selected_asset_check_keys) == set(warehouse_models.check_keys)
    build = dbt.build(context, arguments, spotify_settings.dbt_target_path / "build", spotify_settings.dbt_vars(),
                      whole=whole_warehouse and every_check,
                      run_vars={"key_tests_cover": "newest_batch"} if config.key_tests_newest_batch_only else None)
    if build.succeeded and whole_warehouse:
        build_state.record_build(spotify_settings, fingerprint)
    # Row counts and previews are read once dbt has let go of the warehouse; the models built before a
    # failure are still reported, then the failure is raised.
    with warehouse_connection(spotify_settings, read_only=True, with_marts=True) as connection:
        for event in build.events:
            if isinstance(event, MaterializeResult):
                node = build.nodes[event.metadata["unique_id"]]
                event = MaterializeResult(asset_key=event.asset_key,
                                          metadata={**event.metadata, **model_metadata(connection, node, spotify_settings.dbt_docs_base_url)})
            yield event
    if not build.succeeded:
        raise Failure(description="dbt build failed: " + "; ".join(build.errors[:5]))
