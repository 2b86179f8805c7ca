"""When audio features are read: a catalog file as soon as it has landed, once; ReccoBeats daily, when turned on."""

import hashlib

from dagster import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    schedule,
    sensor,
)

from spotify_assets.defs.audio_features.assets import (
    RAW_CATALOG_FILE_KEY,
    reccobeats_candidates,
)
from spotify_assets.defs.jobs import (
    CHAIN_SENSOR_INTERVAL_SECONDS,
    catalog_file_job,
    reccobeats_job,
)
from spotify_assets.lib.audio_features.catalog_file import landed_catalog_files
from spotify_assets.settings import SpotifySettings


@sensor(job=catalog_file_job, minimum_interval_seconds=CHAIN_SENSOR_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING,
        description="Reads a catalog file of audio features once it has landed (`spotify-assets catalog import FILE`).")
def catalog_files_sensor(context: SensorEvaluationContext, spotify_settings: SpotifySettings):
    landed = sorted(f.file_hash for f in landed_catalog_files(spotify_settings.shared_landing_path))
    if not landed:
        return SkipReason("No catalog file has landed (`spotify-assets catalog import FILE`).")
    result = context.instance.fetch_materializations(RAW_CATALOG_FILE_KEY, limit=1).records
    seen = result[0].asset_materialization.metadata.get("file_hashes") if result else None
    if seen is not None and set(landed) <= set(seen.value):
        return SkipReason("Every landed catalog file has been read.")
    return RunRequest(run_key="catalog-files-" + hashlib.sha256("".join(landed).encode()).hexdigest()[:16])


@schedule(cron_schedule="30 4 * * *", job=reccobeats_job, default_status=DefaultScheduleStatus.RUNNING,
          description="Daily: ReccoBeats' audio features for the most streamed tracks not asked before, "
          "reccobeats_lookups_per_run at a time. Skips while that setting is 0 (the default) or nothing is left.")
def reccobeats_schedule(context: ScheduleEvaluationContext, spotify_settings: SpotifySettings):
    return reccobeats_request(spotify_settings)


def reccobeats_request(settings: SpotifySettings) -> RunRequest | SkipReason:
    """Whether ReccoBeats is to be asked: the schedule and `spotify-assets enrich` both ask this."""
    if settings.reccobeats_lookups <= 0:
        return SkipReason("ReccoBeats is off: `spotify-assets config set reccobeats_lookups_per_run 500` turns it on "
                          "(your track ids go to api.reccobeats.com).")
    if not reccobeats_candidates(settings):
        return SkipReason("Every streamed track has been asked of ReccoBeats.")
    return RunRequest()
