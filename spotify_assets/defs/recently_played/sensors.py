"""When to poll, and which day partitions follow a poll.

The schedule polls every 30 minutes (`SPOTIFY_POLL_CRON`), skipping with a reason while no Spotify
credentials are set. After each poll, `recently_played_days_sensor` requests one run for exactly the
UTC days that poll touched (both days across midnight), as a single run over the range.
"""

import os

from dagster import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    EventLogEntry,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    asset_sensor,
    schedule,
)
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from spotify_assets.defs.spotify_api.resources import credentials_configured
from spotify_assets.defs.jobs import poll_recently_played_job, recently_played_items_job
from spotify_assets.defs.recently_played.assets import RESPONSES_KEY

DEFAULT_POLL_CRON = "*/30 * * * *"

def range_tags(days: list[str]) -> dict[str, str]:
    return {ASSET_PARTITION_RANGE_START_TAG: min(days), ASSET_PARTITION_RANGE_END_TAG: max(days)}


# The cron is read when the code location loads: a schedule's cadence is part of its definition.
@schedule(
    cron_schedule=os.environ.get("SPOTIFY_POLL_CRON", DEFAULT_POLL_CRON),
    job=poll_recently_played_job,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Polls recently-played (Spotify keeps only the last 50 plays). Skips while SPOTIFY_CLIENT_ID "
    "and SPOTIFY_REFRESH_TOKEN are not set.",
)
def recently_played_poll_schedule(context: ScheduleEvaluationContext):
    if not credentials_configured():
        return SkipReason("Live polling is off: set SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET (empty for PKCE apps) "
                          "and SPOTIFY_REFRESH_TOKEN (see `spotify-assets auth`).")
    return RunRequest()


@asset_sensor(
    asset_key=RESPONSES_KEY,
    job=recently_played_items_job,
    default_status=DefaultSensorStatus.RUNNING,
    description="After each poll, rebuilds the UTC day partitions of raw.recently_played_items it touched.",
)
def recently_played_days_sensor(context: SensorEvaluationContext, asset_event: EventLogEntry):
    metadata = asset_event.asset_materialization.metadata
    days = list(metadata["touched_days"].value) if "touched_days" in metadata else []
    if not days:
        return SkipReason("The last poll brought no new plays.")
    return RunRequest(run_key=f"poll-{asset_event.run_id}", tags=range_tags(days))  # one poll per run


