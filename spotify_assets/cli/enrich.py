"""`spotify-assets enrich`: one enrichment pass, Last.fm (LASTFM_API_KEY), the Spotify catalog and Spotify's view of
you (top lists and playlists, today's pull; Spotify credentials), each when the daemon's own sensor or schedule asks
for it, then the warehouse update sensor's build."""

from __future__ import annotations

from spotify_assets.cli import terminal
from spotify_assets.cli.failures import CommandFailed
from spotify_assets.cli.prepare import prepare_dbt_manifest
from spotify_assets.cli.runs import follow, update_warehouse
from spotify_assets.settings import SpotifySettings

_SOURCES = {"lastfm_enrichment_sensor": "Last.fm", "catalog_enrichment_schedule": "Spotify catalog",
            "spotify_view_schedule": "Spotify's view", "reccobeats_schedule": "ReccoBeats"}
_JOBS = {"lastfm_enrichment_job": "Last.fm", "catalog_enrichment_job": "Spotify catalog",
         "spotify_view_job": "Spotify's view", "reccobeats_job": "ReccoBeats"}


def enrich(settings: SpotifySettings) -> None:
    from spotify_assets.defs.lastfm.resources import lastfm_configured
    from spotify_assets.defs.spotify_api.resources import anyone_authorized

    if not lastfm_configured() and not anyone_authorized(settings) and settings.reccobeats_lookups <= 0:
        raise CommandFailed("nothing to enrich with: set LASTFM_API_KEY (tags and genres), the Spotify credentials "
                            "(`spotify-assets auth`: ISRCs, credited artists, top lists, playlists) and/or "
                            "reccobeats_lookups_per_run (audio features)")
    prepare_dbt_manifest(settings)
    launched = follow(settings, list(_SOURCES), "enrich", once=True,
                      on_skip=lambda name, message: terminal.say(f"{_SOURCES[name]}: {message}"),
                      describe=lambda job, request: f"{_JOBS[job]}: looking up what is new")
    for result in launched.results:
        for event in result.get_asset_materialization_events():
            metadata = event.materialization.metadata
            if "looked_up" in metadata:
                terminal.say(f"{_JOBS[result.dagster_run.job_name]}: {event.asset_key.path[-1]}: "
                             f"{metadata['looked_up'].value} looked up ({metadata['found'].value} found), "
                             f"{metadata['still_to_look_up'].value} left for later passes")
            elif "lists_asked" in metadata:
                terminal.say(f"Spotify's view: {metadata['lists_asked'].value} top lists pulled")
            elif "refetched" in metadata:
                terminal.say(f"Spotify's view: {metadata['playlists'].value} playlists, "
                             f"{metadata['refetched'].value} changed and fetched again, "
                             f"{metadata['unreadable'].value} Spotify would not open")
    if launched.failures:
        raise launched.failure()
    update_warehouse(settings, "enrich")
