"""The workflows, each defined once: the command line, the sensors, the schedules and the UI launch these jobs
the same way (defs/warehouse_updates.py says which one follows a change of a source)."""

from dagster import AssetKey, AssetSelection, define_asset_job, job
from dagster_dbt import build_dbt_asset_selection

from spotify_assets.defs.audio_features.assets import (
    RAW_CATALOG_FILE_KEY,
    RAW_RECCOBEATS_KEY,
    RECCOBEATS_KEY,
)
from spotify_assets.defs.catalog.assets import CATALOG_KEY, RAW_CATALOG_KEY
from spotify_assets.defs.dbt_docs.assets import DOCS_KEY
from spotify_assets.defs.exports.assets import import_spotify_export
from spotify_assets.defs.exports.removal import (
    remove_listener_rows,
    remove_spotify_export,
)
from spotify_assets.defs.publishing.assets import published_marts_database
from spotify_assets.defs.recently_played.assets import ITEMS_KEY, RESPONSES_KEY
from spotify_assets.defs.reports.assets import listening_report
from spotify_assets.defs.spotify_view.assets import (
    PLAYLIST_RESPONSES_KEY,
    RAW_PLAYLIST_ITEMS_KEY,
    RAW_PLAYLISTS_KEY,
    RAW_TOP_ITEMS_KEY,
    TOP_ITEMS_RESPONSES_KEY,
)
from spotify_assets.defs.transformations.assets import warehouse_models

# How often the daemon evaluates the sensors that chain one run to the next (inbox -> import -> build, poll -> days ->
# update): a file dropped into the inbox reaches the marts within about a minute of settling.
CHAIN_SENSOR_INTERVAL_SECONDS = 15

# Each job's default run config: its runs print only warnings and errors on the console of the process running them
# (the UI's terminal, where the daemon's runs would otherwise print every event; a command's runs.log). Every event
# still goes to the instance, where the UI shows it, and the launchpad shows this setting to change it for one run.
CONSOLE_WARNINGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

import_spotify_export_job = define_asset_job(
    "import_spotify_export_job",
    selection=AssetSelection.assets(import_spotify_export),
    config=CONSOLE_WARNINGS,
    description="Import one landed Spotify export (a partition) into raw.*.",
)


# Only `spotify-assets exports remove` runs it (its export is required config), with the commands' quiet console.
@job(description="Remove one landed export: its landing folder, its raw rows, its partition; the next build rebuilds "
     "every model without it (`spotify-assets exports remove`).")
def remove_spotify_export_job():
    remove_spotify_export()


# Only `spotify-assets listener remove` runs it, after removing each of the listener's exports as above.
@job(description="Remove a listener's remaining raw rows (its polls, Spotify's view of it) in the warehouse pool; the "
     "next build rebuilds every model without them (`spotify-assets listener remove`).")
def remove_listener_rows_job():
    remove_listener_rows()


WAREHOUSE = AssetSelection.assets(warehouse_models, published_marts_database, listening_report)

build_warehouse_job = define_asset_job(
    "build_warehouse_job",
    config=CONSOLE_WARNINGS,
    selection=WAREHOUSE,
    description="Build and test every dbt model (staging, intermediate, marts), publish marts.duckdb, then "
    "write the listening report from it.",
)

# A poll adds at most 50 plays to a history of up to millions. The update after it builds only what lies
# downstream of the polled plays and runs the dbt tests that guard the keys of incremental models (what a faulty
# incremental merge breaks first; a table rebuilt whole from them cannot keep a stale row). The whole-history
# reconciliations (streams_match_plays, bucket_levels_agree, covers_every_date, relationships, ...) and the tables'
# key tests run with every import, `spotify-assets build` and the test suite.
KEY_TESTS = build_dbt_asset_selection([warehouse_models],
                                      dbt_select="test_name:unique test_name:not_null test_name:unique_combination",
                                      dbt_exclude="config.materialized:table")
# What the whole builds (an import, an enrichment, a catalog file, the daily pull of Spotify's view) refit and the
# after-poll update leaves as it is: the statistics of the whole history that 50 plays barely move (the listening
# modes' k-means, the features' correlations, which catalog tracks are new to you, which features meet which tracks)
# and the comparisons with Spotify's view, which end on the day of its pull. The polled plays take their track's
# features and mode from the last build. Measured: they cost a 1M poll about 3 s (bench/RESULTS.md).
REFIT_BY_WHOLE_BUILDS = build_dbt_asset_selection(
    [warehouse_models], dbt_select="int_track_modes int_track_features_resolved mart_feature_correlations "
    "mart_catalog_candidates mart_listening_modes mart_modes_by_hour mart_top_items_compared bridge_playlist_track "
    "mart_playlist_listening")
AFTER_POLL = (AssetSelection.assets(ITEMS_KEY).downstream(include_self=False) & WAREHOUSE) - REFIT_BY_WHOLE_BUILDS

update_after_poll_job = define_asset_job(
    "update_after_poll_job",
    selection=AFTER_POLL.without_checks() | (AFTER_POLL & KEY_TESTS),
    # Its key tests look only at the keys the run wrote (dbt_project/macros/key_tests.sql).
    config={"ops": {"warehouse_models": {"config": {"key_tests_newest_batch_only": True}}}, **CONSOLE_WARNINGS},
    description="After a poll: rebuild the dbt models downstream of raw.recently_played_items with their key "
    "tests, publish marts.duckdb and write the listening report (`spotify-assets poll` runs it).",
)

poll_recently_played_job = define_asset_job(
    "poll_recently_played_job",
    config=CONSOLE_WARNINGS,
    selection=AssetSelection.assets(RESPONSES_KEY),
    description="One recently-played poll into landing (its gap check runs with it).",
)

recently_played_items_job = define_asset_job(
    "recently_played_items_job",
    config=CONSOLE_WARNINGS,
    selection=AssetSelection.assets(ITEMS_KEY),
    description="Rebuild raw.recently_played_items for a range of UTC days from landing.",
)

catalog_enrichment_job = define_asset_job(
    "catalog_enrichment_job",
    config=CONSOLE_WARNINGS,
    selection=AssetSelection.assets(CATALOG_KEY, RAW_CATALOG_KEY),
    description="Look up tracks seen only in exports in the Spotify catalog (bounded per run), then load them.",
)

catalog_file_job = define_asset_job(
    "catalog_file_job",
    config=CONSOLE_WARNINGS,
    selection=AssetSelection.assets(RAW_CATALOG_FILE_KEY),
    description="Read the catalog files of audio features that landed since the last read (`spotify-assets catalog "
    "import FILE`).",
)

reccobeats_job = define_asset_job(
    "reccobeats_job",
    config=CONSOLE_WARNINGS,
    selection=AssetSelection.assets(RECCOBEATS_KEY, RAW_RECCOBEATS_KEY),
    description="Ask ReccoBeats for the audio features of the most streamed tracks not asked before (bounded per run), "
    "then load the answers.",
)

spotify_view_job = define_asset_job(
    "spotify_view_job",
    config=CONSOLE_WARNINGS,
    selection=AssetSelection.assets(TOP_ITEMS_RESPONSES_KEY, PLAYLIST_RESPONSES_KEY, RAW_TOP_ITEMS_KEY, RAW_PLAYLISTS_KEY,
                                    RAW_PLAYLIST_ITEMS_KEY),
    description="Pull Spotify's top lists and your playlists for today (a playlist's items only when it changed), "
    "then load them into raw.*.",
)

lastfm_enrichment_job = define_asset_job(
    "lastfm_enrichment_job",
    config=CONSOLE_WARNINGS,
    selection=AssetSelection.assets(
        AssetKey(["lastfm", "track_info"]), AssetKey(["lastfm", "artist_tags"]),
        AssetKey(["raw", "lastfm_tracks"]), AssetKey(["raw", "lastfm_artists"]),
    ),
    description="Ask Last.fm about tracks and artists not asked before (bounded per run), then load the answers.",
)

dbt_docs_job = define_asset_job(
    "dbt_docs_job",
    config=CONSOLE_WARNINGS,
    selection=AssetSelection.assets(DOCS_KEY),
    description="Generate the dbt docs site (waits for the warehouse pool: the catalog reads the warehouse).",
)
