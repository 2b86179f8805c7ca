"""When Last.fm enrichment runs: whenever the published marts gain tracks or artists not asked about yet."""

from dagster import (
    AssetKey,
    DefaultSensorStatus,
    EventLogEntry,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    asset_sensor,
)

from spotify_assets.defs.jobs import lastfm_enrichment_job
from spotify_assets.defs.lastfm.assets import artist_candidates, track_candidates
from spotify_assets.defs.lastfm.resources import lastfm_configured
from spotify_assets.settings import SpotifySettings


@asset_sensor(
    asset_key=AssetKey(["published", "marts_database"]),
    job=lastfm_enrichment_job,
    default_status=DefaultSensorStatus.RUNNING,
    description="After each publish, asks Last.fm about new tracks and artists (skips without LASTFM_API_KEY).",
)
def lastfm_enrichment_sensor(context: SensorEvaluationContext, asset_event: EventLogEntry, spotify_settings: SpotifySettings):
    if not lastfm_configured():
        return SkipReason("Last.fm enrichment is off: set LASTFM_API_KEY (https://www.last.fm/api/account/create).")
    if not track_candidates(spotify_settings) and not artist_candidates(spotify_settings):
        return SkipReason("Every track and artist has been asked about.")
    return RunRequest(run_key=f"published-{asset_event.run_id}")
