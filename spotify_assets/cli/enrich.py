"""`spotify-assets enrich`: one Last.fm and Spotify catalog enrichment pass, then the warehouse update rule."""

from __future__ import annotations

from spotify_assets.cli.prepare import prepare_dbt_manifest
from spotify_assets.cli.runs import (
    CommandFailed,
    failure_reason,
    run_job,
    update_warehouse,
)
from spotify_assets.settings import SpotifySettings


def enrich(settings: SpotifySettings) -> None:
    """One enrichment pass, Last.fm (LASTFM_API_KEY) and the Spotify catalog (Spotify credentials), each when the
    daemon's own sensor or schedule would launch it, then the warehouse and the published marts."""
    from dagster import SkipReason

    from spotify_assets.defs.catalog.schedule import catalog_request
    from spotify_assets.defs.lastfm.resources import lastfm_configured
    from spotify_assets.defs.lastfm.sensor import lastfm_request
    from spotify_assets.defs.spotify_api.resources import credentials_configured

    if not lastfm_configured() and not credentials_configured():
        raise CommandFailed("nothing to enrich with: set LASTFM_API_KEY (tags and genres) and/or the Spotify "
                            "credentials (`spotify-assets auth`, for ISRCs and credited artists)")
    prepare_dbt_manifest(settings)
    for job_name, source, request in [("lastfm_enrichment_job", "Last.fm", lastfm_request(settings)),
                                      ("catalog_enrichment_job", "Spotify catalog", catalog_request())]:
        if isinstance(request, SkipReason):
            print(f"{source}: {request.skip_message}", flush=True)
            continue
        result = run_job(settings, job_name, tags=request.tags)
        if not result.success:
            raise CommandFailed(f"the {source} enrichment failed: {failure_reason(result)}")
        for event in result.get_asset_materialization_events():
            metadata = event.materialization.metadata
            if "looked_up" in metadata:
                print(f"{source}: {event.asset_key.path[-1]}: {metadata['looked_up'].value} looked up "
                      f"({metadata['found'].value} found), {metadata['still_to_look_up'].value} left for later runs",
                      flush=True)
    update_warehouse(settings)
