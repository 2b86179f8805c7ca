"""When to poll, and which day partitions follow a poll.

The schedule polls every 30 minutes (`SPOTIFY_POLL_CRON`), skipping with a reason while no Spotify
credentials are set. After each poll, `recently_played_days_sensor` requests one run for exactly the
UTC days that poll touched (both days across midnight), as a single run over the range; every poll gets its
run, however many happened between two of the sensor's ticks.
"""

import os

from dagster import (
    AssetRecordsFilter,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    schedule,
    sensor,
)

from spotify_assets.defs.jobs import poll_recently_played_job, recently_played_items_job
from spotify_assets.defs.recently_played.assets import RESPONSES_KEY
from spotify_assets.defs.spotify_api.resources import credentials_configured

DEFAULT_POLL_CRON = "*/30 * * * *"
POLLS_PER_TICK = 100  # a backlog beyond this (days of a stopped daemon's polls) is taken over the next ticks

# Dagster's run tags for one run over a range of partitions (what a single-run backfill sets).
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def poll_request() -> RunRequest | SkipReason:
    """Whether a poll runs now: the schedule and `spotify-assets poll` both ask this."""
    if not credentials_configured():
        return SkipReason("Live polling is off: set SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET (empty for PKCE apps) "
                          "and SPOTIFY_REFRESH_TOKEN (see `spotify-assets auth`).")
    return RunRequest()


def days_request(touched_days: list[str], poll_run_id: str) -> RunRequest | SkipReason:
    """The one run that loads exactly the UTC days a poll touched (both days across midnight): the days sensor and
    `spotify-assets poll` both ask this."""
    if not touched_days:
        return SkipReason("The last poll brought no new plays.")
    return RunRequest(run_key=f"poll-{poll_run_id}",
                      tags={PARTITION_RANGE_START_TAG: min(touched_days), PARTITION_RANGE_END_TAG: max(touched_days)})


# The cron is read when the code location loads: a schedule's cadence is part of its definition.
@schedule(
    cron_schedule=os.environ.get("SPOTIFY_POLL_CRON", DEFAULT_POLL_CRON),
    job=poll_recently_played_job,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Polls recently-played (Spotify keeps only the last 50 plays). Skips while SPOTIFY_CLIENT_ID "
    "and SPOTIFY_REFRESH_TOKEN are not set.",
)
def recently_played_poll_schedule(context: ScheduleEvaluationContext):
    return poll_request()


@sensor(
    job=recently_played_items_job,
    default_status=DefaultSensorStatus.RUNNING,
    description="After each poll, rebuilds the UTC day partitions of raw.recently_played_items it touched.",
)
def recently_played_days_sensor(context: SensorEvaluationContext):
    # Every poll since the last tick, oldest first: with polls closer together than the sensor's ticks (a busy
    # daemon, a short SPOTIFY_POLL_CRON), the newest alone would leave the days of the ones before it unloaded.
    # The first tick (no cursor yet) takes the newest poll only: polls before it were loaded by whoever made them
    # (`spotify-assets poll` loads its own days); on an instance without polls it starts the cursor at the beginning.
    after = int(context.cursor) if (context.cursor or "").isdigit() else None  # a cursor set by hand: start over
    if after is not None:
        polls = context.instance.fetch_materializations(
            AssetRecordsFilter(asset_key=RESPONSES_KEY, after_storage_id=after), limit=POLLS_PER_TICK,
            ascending=True).records
    else:
        polls = context.instance.fetch_materializations(RESPONSES_KEY, limit=1, ascending=False).records
    if not polls:
        if after is None:
            context.update_cursor("0")
        return SkipReason("No poll since the last look.")
    context.update_cursor(str(polls[-1].storage_id))
    requests = []
    for poll in polls:
        metadata = poll.asset_materialization.metadata
        request = days_request(list(metadata["touched_days"].value) if "touched_days" in metadata else [], poll.run_id)
        if isinstance(request, RunRequest):
            requests.append(request)
    return requests or SkipReason("The polls since the last look brought no new plays.")
