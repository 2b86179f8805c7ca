"""Incremental builds give exactly what a full rebuild from landing gives, and touch only what changed."""

import json

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from spotify_assets.definitions import defs
from spotify_assets.defs.exports.assets import import_spotify_export
from spotify_assets.defs.partitions import spotify_export_partitions
from spotify_assets.defs.publishing.assets import published_marts_database
from spotify_assets.defs.transformations.assets import warehouse_models
from spotify_assets.lib.exports.landing import receive_export
from spotify_assets.lib.publishing.publish import connect_published
from spotify_assets.lib.warehouse import warehouse_connection
from spotify_assets.settings import SpotifySettings

pytestmark = pytest.mark.slow
ZONE = "Europe/Berlin"


class Pipeline:
    def __init__(self, data_dir, zone=ZONE):
        self.instance = DagsterInstance.ephemeral()
        self.use_zone(data_dir, zone)

    def use_zone(self, data_dir, zone):
        self.settings = SpotifySettings(data_dir=str(data_dir), timezone=zone)
        self.resources = {"spotify_settings": self.settings, "dbt": defs.resources["dbt"]}

    def import_(self, path):
        landed = receive_export(path, self.settings.exports_landing_path)
        self.instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
        assert materialize([import_spotify_export], partition_key=landed.export_hash, resources=self.resources,
                           instance=self.instance).success

    def build(self, expect_success=True):
        result = materialize([warehouse_models, published_marts_database], resources=self.resources, instance=self.instance,
                             raise_on_error=False)
        if expect_success:
            assert result.success
            assert all(check.passed for check in result.get_asset_check_evaluations())
        return result


def _mart_tables(path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return [name for (name,) in connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1").fetchall()]


def _differences(left, right, ignoring=("batch_at",)) -> dict[str, int]:
    """Rows in one database's marts and not the other's (the columns in `ignoring` left out), per table."""
    connection = duckdb.connect()
    connection.execute(f"ATTACH '{left}' AS left_db (READ_ONLY)")
    connection.execute(f"ATTACH '{right}' AS right_db (READ_ONLY)")
    differences = {}
    for table in _mart_tables(left):
        columns = [c for (c,) in connection.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'left_db' AND schema_name = 'main' "
            "AND table_name = ? AND NOT list_contains(?, column_name) ORDER BY column_index",
            [table, list(ignoring)]).fetchall()]
        select = ", ".join(f'"{c}"' for c in columns)
        count = connection.execute(
            f"SELECT count(*) FROM ((SELECT {select} FROM left_db.main.{table} EXCEPT ALL SELECT {select} FROM right_db.main.{table}) "
            f"UNION ALL (SELECT {select} FROM right_db.main.{table} EXCEPT ALL SELECT {select} FROM left_db.main.{table}))"
        ).fetchall()[0][0]
        if count:
            differences[table] = count
    return differences


def test_one_export_at_a_time_equals_a_full_rebuild(small_history, tmp_path):
    incremental = Pipeline(tmp_path / "incremental")
    for export in small_history.exports:  # each build sees one more export: an incremental run
        incremental.import_(export.path)
        incremental.build()
    full = Pipeline(tmp_path / "full")
    for export in small_history.exports:
        full.import_(export.path)
    full.build()
    assert _mart_tables(full.settings.published_marts_path) == _mart_tables(incremental.settings.published_marts_path)
    assert _differences(full.settings.published_marts_path, incremental.settings.published_marts_path) == {}


def test_a_small_late_import_rewrites_only_the_days_it_touches(small_history, tmp_path):
    pipeline = Pipeline(tmp_path / "data")
    for export in small_history.exports:
        pipeline.import_(export.path)
    pipeline.build()
    with warehouse_connection(pipeline.settings, read_only=True, with_marts=True) as connection:
        total_plays, days = connection.execute(
            "SELECT count(*), count(DISTINCT played_on_utc) FROM marts.fct_plays").fetchall()[0]
        day_buckets = connection.execute("SELECT count(*) FROM marts.agg_artist_buckets WHERE bucket_grain = 'day'").fetchall()[0][0]
    # Two plays of a new song, on one day, as a lone extended-history file.
    late = [{"ts": "2025-06-15T18:00:00Z", "ms_played": 200000, "master_metadata_track_name": "Late Song",
             "master_metadata_album_artist_name": "Late Artist", "master_metadata_album_album_name": "Late",
             "spotify_track_uri": "spotify:track:late"},
            {"ts": "2025-06-15T18:04:00Z", "ms_played": 200000, "master_metadata_track_name": "Late Song",
             "master_metadata_album_artist_name": "Late Artist", "master_metadata_album_album_name": "Late",
             "spotify_track_uri": "spotify:track:late"}]
    path = tmp_path / "Streaming_History_Audio_2025_9.json"
    path.write_text(json.dumps(late))
    pipeline.import_(path)
    result = pipeline.build()
    published = next(event.materialization.metadata for event in result.get_asset_materialization_events()
                     if event.asset_key == published_marts_database.key)
    assert published["plays"].value == total_plays + 2
    # The published file is the warehouse's marts, each row without its listener (the one listener's).
    assert _differences(pipeline.settings.warehouse_marts_path, pipeline.settings.published_marts_path,
                        ignoring=("listener",)) == {}
    with warehouse_connection(pipeline.settings, read_only=True, with_marts=True) as connection:
        newest = "(SELECT max(batch_at) FROM marts.fct_plays)"
        rewritten_days = connection.execute(
            f"SELECT count(DISTINCT played_on_utc) FROM marts.fct_plays WHERE batch_at = {newest}").fetchall()[0][0]
        rewritten_plays = connection.execute(f"SELECT count(*) FROM marts.fct_plays WHERE batch_at = {newest}").fetchall()[0][0]
        rewritten_buckets = connection.execute(
            f"SELECT count(*) FROM marts.agg_artist_buckets WHERE bucket_grain = 'day' AND batch_at = {newest}").fetchall()[0][0]
        assert connection.execute("SELECT count(*) FROM marts.fct_plays").fetchall()[0][0] == total_plays + 2
        assert connection.execute("SELECT streams FROM marts.dim_artist WHERE artist_key = 'late artist'").fetchall() == [(2,)]
    assert rewritten_days <= 3 < days  # the day itself and its neighbours
    assert rewritten_plays < total_plays / 10
    assert rewritten_buckets < day_buckets / 10


def test_a_failing_dbt_test_fails_the_run_naming_it_and_keeps_what_was_built(small_history, tmp_path):
    pipeline = Pipeline(tmp_path / "data")
    for export in small_history.exports:
        pipeline.import_(export.path)
    pipeline.build()
    with duckdb.connect(str(pipeline.settings.warehouse_marts_path)) as connection:  # a day counted twice
        connection.execute("INSERT INTO agg_daily_streams FROM agg_daily_streams LIMIT 1")
    result = pipeline.build(expect_success=False)
    assert not result.success
    failed = sorted(check.check_name for check in result.get_asset_check_evaluations() if not check.passed)
    assert "unique_per_listener_agg_daily_streams_local_date" in failed
    failure = next(event for event in result.all_events if event.is_step_failure)
    assert "unique_per_listener_agg_daily_streams_local_date" in failure.step_failure_data.error.message
    # The models dbt built before the failing test are still recorded as materialized.
    built = {event.asset_key.path[-1] for event in result.get_asset_materialization_events()}
    assert {"fct_plays", "agg_daily_streams", "dim_artist"} <= built


def test_a_changed_time_zone_rebuilds_every_model_as_a_fresh_build_in_the_new_zone(small_history, tmp_path):
    """`make demo` in UTC, then `SPOTIFY_TIMEZONE=Europe/Berlin make demo`, once published a report labelled
    Europe/Berlin holding UTC figures: the incremental models kept their rows."""
    switched = Pipeline(tmp_path / "switched", zone="UTC")
    for export in small_history.exports:
        switched.import_(export.path)
    switched.build()
    switched.use_zone(tmp_path / "switched", ZONE)
    # A partial update (a poll's) would mix zones: it refuses, naming the fix.
    partial = materialize([warehouse_models], selection=[AssetKey(["marts", "fct_plays"])], resources=switched.resources,
                          instance=switched.instance, raise_on_error=False)
    assert not partial.success
    failure = next(event for event in partial.all_events if event.is_step_failure)
    assert failure.step_failure_data.error.message.splitlines()[-1].endswith(
        "the time zone changed from UTC to Europe/Berlin (resource configuration) since the warehouse was built: run "
        "`spotify-assets build` "
        "once, which rebuilds every model; this partial update would mix old and new figures")
    switched.build()
    fresh = Pipeline(tmp_path / "fresh")
    for export in small_history.exports:
        fresh.import_(export.path)
    fresh.build()
    assert _differences(fresh.settings.published_marts_path, switched.settings.published_marts_path) == {}
    with connect_published(switched.settings.published_marts_path) as connection:
        assert connection.execute("SELECT timezone FROM warehouse_settings").fetchall() == [(ZONE,)]
    # Built whole in the new zone, partial updates go on.
    again = materialize([warehouse_models], selection=[AssetKey(["marts", "fct_plays"])], resources=switched.resources,
                        instance=switched.instance, raise_on_error=False)
    assert again.success
