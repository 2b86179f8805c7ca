"""When Last.fm enrichment runs: whenever the published marts gain tracks or artists not asked about yet."""

from dagster import (
    DagsterInstance,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from spotify_assets.defs.jobs import lastfm_enrichment_job
from spotify_assets.defs.lastfm.assets import artist_candidates, track_candidates
from spotify_assets.defs.lastfm.resources import lastfm_configured
from spotify_assets.instance.recovery import keyed
from spotify_assets.settings import SpotifySettings


@sensor(
    job=lastfm_enrichment_job,
    default_status=DefaultSensorStatus.RUNNING,
    description="After each publish, asks Last.fm about new tracks and artists (skips without LASTFM_API_KEY). "
    "`spotify-assets enrich` evaluates this sensor too.",
)
def lastfm_enrichment_sensor(context: SensorEvaluationContext, spotify_settings: SpotifySettings):
    return lastfm_request(spotify_settings, context.instance)


def lastfm_request(settings: SpotifySettings, instance: DagsterInstance) -> RunRequest | SkipReason:
    """One Last.fm pass per publish, while something is left to ask. The published file is replaced whole by each
    publish, so its modification time is the publish's; a Last.fm run created after it has asked about what it holds
    (the instance and the file are the sensor's only state)."""
    if not lastfm_configured():
        return SkipReason("Last.fm enrichment is off: set LASTFM_API_KEY (https://www.last.fm/api/account/create).")
    if not settings.published_marts_path.exists():
        return SkipReason("Nothing published yet: import an export or poll first.")
    published_ns = settings.published_marts_path.stat().st_mtime_ns
    newest = instance.get_run_records(RunsFilter(job_name=lastfm_enrichment_job.name), limit=1)
    if newest and newest[0].create_timestamp.timestamp() * 1e9 > published_ns:
        return SkipReason("Nothing published since the last Last.fm pass.")
    if not track_candidates(settings) and not artist_candidates(settings):
        return SkipReason("Every track and artist has been asked about.")
    run_key, tags = keyed(instance, f"published-{published_ns}")
    return RunRequest(run_key=run_key, tags=tags)
