"""`spotify-assets catalog import FILE`: a catalog file of tracks with audio features (CSV or Parquet), landed and read
as the daemon's own sensor would have it read, then the warehouse update."""

from __future__ import annotations

from pathlib import Path

from spotify_assets.cli import terminal
from spotify_assets.cli.failures import CommandFailed
from spotify_assets.cli.prepare import prepare_dbt_manifest
from spotify_assets.cli.runs import follow, update_warehouse
from spotify_assets.settings import SpotifySettings


def import_catalog_file(settings: SpotifySettings, path: Path) -> None:
    from spotify_assets.lib.audio_features.catalog_file import (
        CatalogFileError,
        land_catalog_file,
    )

    try:
        landed = land_catalog_file(path, settings.shared_landing_path)
    except CatalogFileError as error:
        raise CommandFailed(str(error)) from None
    terminal.say(f"{path.name}: landed as {landed.file_hash[:12]}")
    prepare_dbt_manifest(settings)
    launched = follow(settings, ["catalog_files_sensor"], "catalog import", once=True,
                      on_skip=lambda name, message: terminal.say(message),
                      describe=lambda job, request: "reading the catalog file")
    if launched.failures:
        raise launched.failure()
    unreadable = []
    for result in launched.results:
        for event in result.get_asset_materialization_events():
            metadata = event.materialization.metadata
            for item in metadata["files_read"].value:
                quarantined = item["quarantined"]
                terminal.say(f"{item['file']}: {item['rows']:,} tracks read, {quarantined:,} "
                             f"row{'' if quarantined == 1 else 's'} quarantined (raw.catalog_file_quarantine says why)")
            unreadable += metadata["unreadable_files"].value
        for check in result.get_asset_check_evaluations():
            if not check.passed:
                terminal.say(f"warning: {check.description}")
    if unreadable:
        raise CommandFailed("; ".join(unreadable))
    update_warehouse(settings, "catalog import")
    _say_what_it_met(settings)


def _say_what_it_met(settings: SpotifySettings) -> None:
    """How much of the history the catalog files now cover, and how many of their tracks are new to the listener."""
    from spotify_assets.lib.publishing.publish import connect_published

    if not settings.published_marts_path.exists():
        return
    connection = connect_published(settings.published_marts_path)
    try:
        featured, tracks = connection.execute("SELECT count(features_source), count(*) FROM dim_track "
                                              "WHERE streams > 0").fetchall()[0]
        coverage = connection.execute("SELECT sum(streams_with_features) / nullif(sum(streams), 0) "
                                      "FROM mart_mood_monthly").fetchall()[0][0]
        candidates = connection.execute("SELECT count(*) FROM mart_catalog_candidates").fetchall()[0][0]
    finally:
        connection.close()
    terminal.say(f"audio features for {featured:,} of the {tracks:,} tracks you streamed ({(coverage or 0):.0%} of your "
                 f"streams); {candidates:,} tracks of the catalog you never streamed (what recommendations() draws on)")
