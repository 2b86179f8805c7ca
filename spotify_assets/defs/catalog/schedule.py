"""When catalog enrichment runs: daily, bounded, and only with Spotify credentials."""

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from spotify_assets.defs.catalog.assets import lookups_pending
from spotify_assets.defs.jobs import catalog_enrichment_job
from spotify_assets.defs.spotify_api.resources import anyone_authorized
from spotify_assets.settings import SpotifySettings


@schedule(
    cron_schedule="15 4 * * *",
    job=catalog_enrichment_job,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Daily: catalog details (ISRC, credited artists, length, release date) for the most-streamed tracks seen only in exports, "
    "SPOTIFY_CATALOG_LOOKUPS_PER_RUN at a time. Skips while no listener has authorized Spotify or nothing is left to look up.",
)
def catalog_enrichment_schedule(context: ScheduleEvaluationContext, spotify_settings: SpotifySettings):
    return catalog_request(spotify_settings)


def catalog_request(settings: SpotifySettings) -> RunRequest | SkipReason:
    """Whether catalog lookups can run: the schedule and `spotify-assets enrich` both ask this."""
    if not anyone_authorized(settings):
        return SkipReason("Catalog lookups need a listener's Spotify authorization (see `spotify-assets auth`).")
    if not lookups_pending(settings):
        return SkipReason("Every track seen only in exports has been looked up in the catalog.")
    return RunRequest()
