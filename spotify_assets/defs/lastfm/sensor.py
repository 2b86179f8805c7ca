"""When Last.fm enrichment runs: whenever the published marts gain tracks or artists not asked about yet."""

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from spotify_assets.defs.jobs import lastfm_enrichment_job
from spotify_assets.defs.lastfm.assets import artist_candidates, track_candidates
from spotify_assets.defs.lastfm.resources import lastfm_configured
from spotify_assets.defs.publishing.assets import PUBLISHED_KEY
from spotify_assets.settings import SpotifySettings


@sensor(
    job=lastfm_enrichment_job,
    default_status=DefaultSensorStatus.RUNNING,
    description="After each publish, asks Last.fm about new tracks and artists (skips without LASTFM_API_KEY).",
)
def lastfm_enrichment_sensor(context: SensorEvaluationContext, spotify_settings: SpotifySettings):
    published = context.instance.fetch_materializations(PUBLISHED_KEY, limit=1).records
    if not published or context.cursor == str(published[0].storage_id):
        return SkipReason("Nothing published since the last look.")
    context.update_cursor(str(published[0].storage_id))
    request = lastfm_request(spotify_settings)
    if isinstance(request, SkipReason):
        return request
    return RunRequest(run_key=f"published-{published[0].run_id}")


def lastfm_request(settings: SpotifySettings) -> RunRequest | SkipReason:
    """Whether a Last.fm pass has anything to do: the sensor and `spotify-assets enrich` both ask this."""
    if not lastfm_configured():
        return SkipReason("Last.fm enrichment is off: set LASTFM_API_KEY (https://www.last.fm/api/account/create).")
    if not settings.published_marts_path.exists():
        return SkipReason("Nothing published yet: import an export or poll first.")
    if not track_candidates(settings) and not artist_candidates(settings):
        return SkipReason("Every track and artist has been asked about.")
    return RunRequest()
