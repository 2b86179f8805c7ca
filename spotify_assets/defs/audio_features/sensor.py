"""When a catalog file is read: as soon as it has landed, once."""

import hashlib

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from spotify_assets.defs.audio_features.assets import RAW_CATALOG_FILE_KEY
from spotify_assets.defs.jobs import CHAIN_SENSOR_INTERVAL_SECONDS, catalog_file_job
from spotify_assets.lib.audio_features.catalog_file import landed_catalog_files
from spotify_assets.settings import SpotifySettings


@sensor(job=catalog_file_job, minimum_interval_seconds=CHAIN_SENSOR_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING, description="Reads a catalog file of audio features once it has landed (`spotify-assets catalog import FILE`).")
def catalog_files_sensor(context: SensorEvaluationContext, spotify_settings: SpotifySettings):
    landed = sorted(f.file_hash for f in landed_catalog_files(spotify_settings.landing_path))
    if not landed:
        return SkipReason("No catalog file has landed (`spotify-assets catalog import FILE`).")
    result = context.instance.fetch_materializations(RAW_CATALOG_FILE_KEY, limit=1).records
    seen = result[0].asset_materialization.metadata.get("file_hashes") if result else None
    if seen is not None and set(landed) <= set(seen.value):
        return SkipReason("Every landed catalog file has been read.")
    return RunRequest(run_key="catalog-files-" + hashlib.sha256("".join(landed).encode()).hexdigest()[:16])
