"""When to poll, and which day partitions follow a poll.

The schedule polls every 30 minutes (`SPOTIFY_POLL_CRON`), skipping with a reason while no Spotify
credentials are set. After each poll, `recently_played_days_sensor` requests one run for exactly the
UTC days that poll touched (both days across midnight), as a single run over the range; every poll gets its
run, however many happened between two of the sensor's ticks. Neither keeps state of its own: the instance's runs and
materializations are what they decide by, so `spotify-assets poll`, which evaluates both, does what the daemon does.
"""

from dagster import (
    AssetRecordsFilter,
    DagsterInstance,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    schedule,
    sensor,
)

from spotify_assets.defs.jobs import (
    CHAIN_SENSOR_INTERVAL_SECONDS,
    CONSOLE_WARNINGS,
    poll_recently_played_job,
    recently_played_items_job,
)
from spotify_assets.defs.recently_played.assets import ITEMS_KEY, RESPONSES_KEY
from spotify_assets.defs.spotify_api.resources import anyone_authorized
from spotify_assets.instance.recovery import keyed
from spotify_assets.lib import configuration
from spotify_assets.settings import SpotifySettings

POLLS_PER_TICK = 100  # the newest polls the days sensor looks at (two days of polls every 30 minutes)

# Dagster's run tags for one run over a range of partitions (what a single-run backfill sets).
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def poll_request(settings: SpotifySettings) -> RunRequest | SkipReason:
    """Whether a poll runs now: the schedule and `spotify-assets poll` both ask this."""
    if not anyone_authorized(settings):
        return SkipReason("Live polling is off: set SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET (empty for PKCE apps) "
                          "and SPOTIFY_REFRESH_TOKEN (see `spotify-assets auth`), or authorize another listener "
                          "(`spotify-assets auth --listener NAME`).")
    return RunRequest()


def days_request(touched_days: list[str], poll_run_id: str, instance: DagsterInstance | None = None) -> RunRequest:
    """The one run that loads exactly the UTC days a poll touched (both days across midnight)."""
    run_key, tags = keyed(instance, f"poll-{poll_run_id}") if instance else (f"poll-{poll_run_id}", {})
    # A run over a range of partitions gets no partition's config: the job's console setting is given here.
    return RunRequest(run_key=run_key, run_config=CONSOLE_WARNINGS,
                      tags={PARTITION_RANGE_START_TAG: min(touched_days), PARTITION_RANGE_END_TAG: max(touched_days),
                            **tags})


# The cron is read when the code location loads: a schedule's cadence is part of its definition.
@schedule(
    cron_schedule=configuration.value("poll_cron"),
    job=poll_recently_played_job,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Polls recently-played of every listener (Spotify keeps only the last 50 plays). Skips while no "
    "listener has authorized (`spotify-assets auth`).",
)
def recently_played_poll_schedule(context: ScheduleEvaluationContext, spotify_settings: SpotifySettings):
    return poll_request(spotify_settings)


@sensor(
    job=recently_played_items_job,
    minimum_interval_seconds=CHAIN_SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="After each poll, rebuilds the UTC day partitions of raw.recently_played_items it touched (every poll "
    "whose days were not loaded since it; `spotify-assets poll` evaluates this sensor too).",
)
def recently_played_days_sensor(context: SensorEvaluationContext):
    return days_requests(context.instance)


def days_requests(instance: DagsterInstance) -> list[RunRequest] | SkipReason:
    """A run for each of the newest polls whose touched days have not all been loaded since it landed. The instance's
    materializations are the whole state, so the daemon and `spotify-assets poll`, which both ask this, agree on what
    is left, however many polls came between two ticks."""
    polls = instance.fetch_materializations(RESPONSES_KEY, limit=POLLS_PER_TICK).records  # newest first
    if not polls:
        return SkipReason("No poll yet.")
    loaded_since: dict[str, int] = {}  # day -> storage id of its newest load
    for record in instance.fetch_materializations(
            AssetRecordsFilter(asset_key=ITEMS_KEY, after_storage_id=polls[-1].storage_id), limit=10_000).records:
        if record.partition_key:
            loaded_since[record.partition_key] = max(record.storage_id, loaded_since.get(record.partition_key, 0))
    requests = []
    for poll in reversed(polls):  # oldest first
        metadata = poll.asset_materialization.metadata
        touched = list(metadata["touched_days"].value) if "touched_days" in metadata else []
        if any(loaded_since.get(day, 0) < poll.storage_id for day in touched):
            requests.append(days_request(touched, poll.run_id, instance))
    return requests or SkipReason("The days of every poll are loaded.")
