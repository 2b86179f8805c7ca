"""What brings the warehouse up to date after its sources changed: one rule, which the daemon's sensor follows and
every command that changed something (`import`, `poll`, `enrich`, `exports remove`) evaluates through that sensor, so
a command runs exactly the runs the daemon would have launched.

A source changed when it was materialized after the start of the newest finished run that covers it. The whole
build (`build_warehouse_job`) covers every source; the after-poll update (`update_after_poll_job`) covers only the
polled plays, so it is chosen when they are all that changed and the warehouse has been built whole, with the
settings it has now. When no source changed but the warehouse was built with other settings or models than today's
(`config set timezone`, a pull of new models, a removed export), the whole build is requested too: it rebuilds every
model. A finished run counts whether it succeeded or not: a failed build is not retried until something changes
again (the run's page in the UI says why it failed), but a run that was interrupted (Ctrl-C) or whose process died
counts as not having run. While a source or a warehouse run is queued or running, nothing is requested: its end is
the next change, and one build then takes in everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagster import (
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from spotify_assets.defs.audio_features.assets import (
    RAW_CATALOG_FILE_KEY,
    RAW_RECCOBEATS_KEY,
)
from spotify_assets.defs.catalog.assets import RAW_CATALOG_KEY
from spotify_assets.defs.exports.assets import EXPORT_FILES_KEY
from spotify_assets.defs.jobs import (
    CHAIN_SENSOR_INTERVAL_SECONDS,
    build_warehouse_job,
    catalog_enrichment_job,
    catalog_file_job,
    import_spotify_export_job,
    lastfm_enrichment_job,
    poll_recently_played_job,
    reccobeats_job,
    recently_played_items_job,
    remove_listener_rows_job,
    remove_spotify_export_job,
    spotify_view_job,
    update_after_poll_job,
)
from spotify_assets.defs.lastfm.assets import RAW_ARTISTS_KEY, RAW_TRACKS_KEY
from spotify_assets.defs.recently_played.assets import ITEMS_KEY
from spotify_assets.defs.spotify_view.assets import (
    RAW_PLAYLIST_ITEMS_KEY,
    RAW_PLAYLISTS_KEY,
    RAW_TOP_ITEMS_KEY,
)
from spotify_assets.instance.recovery import ended_on_its_own, keyed
from spotify_assets.lib.transformations import build_state
from spotify_assets.settings import SpotifySettings

# The raw tables the warehouse's models read, each written by its own asset.
SOURCES = (EXPORT_FILES_KEY, ITEMS_KEY, RAW_TRACKS_KEY, RAW_ARTISTS_KEY, RAW_CATALOG_KEY, RAW_TOP_ITEMS_KEY,
           RAW_PLAYLISTS_KEY, RAW_PLAYLIST_ITEMS_KEY, RAW_CATALOG_FILE_KEY,
           RAW_RECCOBEATS_KEY)
# Which sources a finished run of each warehouse job has taken in.
COVERS = {build_warehouse_job.name: SOURCES, update_after_poll_job.name: (ITEMS_KEY,)}
# Runs whose end changes a source or the warehouse: while one is queued or running, the update waits for it.
_WRITERS = {job.name for job in (build_warehouse_job, update_after_poll_job, import_spotify_export_job,
                                 remove_spotify_export_job, remove_listener_rows_job,
                                 poll_recently_played_job, recently_played_items_job, lastfm_enrichment_job,
                                 catalog_enrichment_job, spotify_view_job, catalog_file_job,
                                 reccobeats_job)}
_UNFINISHED = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
               DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
_FINISHED = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]


@dataclass(frozen=True)
class WarehouseUpdate:
    job_name: str
    request: str  # the newest source change it takes in: the sensor requests each change once
    reason: str


@dataclass(frozen=True)
class NoUpdate:
    reason: str
    waiting_for: DagsterRun | None = None  # a run whose end is the next change


def warehouse_update(instance: DagsterInstance, settings: SpotifySettings) -> WarehouseUpdate | NoUpdate:
    """The run that brings the warehouse up to date, or why none is needed now."""
    unfinished = [record.dagster_run for record in instance.get_run_records(RunsFilter(statuses=_UNFINISHED))
                  if record.dagster_run.job_name in _WRITERS]
    if unfinished:
        return NoUpdate(f"waiting for run {unfinished[0].run_id} ({unfinished[0].job_name}) to end", unfinished[0])
    changes = {key: result.records[0] for key in SOURCES
               if (result := instance.fetch_materializations(key, limit=1)).records}
    if not changes:
        return NoUpdate("no source has sent anything yet")
    covered_since = {key: 0.0 for key in SOURCES}
    for job_name in COVERS:
        run = _newest_finished(instance, job_name)
        started = (run.start_time or 0.0) if run else 0.0
        for key in COVERS[job_name]:
            covered_since[key] = max(covered_since[key], started)
    changed = sorted((key for key, record in changes.items() if record.timestamp > covered_since[key]),
                     key=lambda key: key.to_user_string())
    if not changed:
        stale = build_state.stale_reason(settings, build_state.current_fingerprint(settings))
        if stale:  # a setting, the models or the exports changed since the last build: a full rebuild
            recorded = build_state.built_with(settings) or {}
            return WarehouseUpdate(build_warehouse_job.name, _key("rebuild", stale, recorded.get("built_at", "")),
                                   stale)
        return NoUpdate("the warehouse has taken in every change of its sources")
    request = "sources-" + "-".join(str(changes[key].storage_id) for key in changed)
    names = ", ".join(key.to_user_string() for key in changed)
    if changed == [ITEMS_KEY] and _built_whole(instance, settings):
        return WarehouseUpdate(update_after_poll_job.name, request, f"new polled plays ({names})")
    return WarehouseUpdate(build_warehouse_job.name, request, f"new data in {names}")


def _key(*parts: str) -> str:
    import hashlib

    return f"{parts[0]}-" + hashlib.sha256("\n".join(parts[1:]).encode()).hexdigest()[:16]


def last_warehouse_failure(instance: DagsterInstance) -> DagsterRun | None:
    """The newest finished warehouse run when it failed: the published marts are older than what has landed."""
    runs = [run for job_name in COVERS if (run := _newest_finished(instance, job_name))]
    newest = max(runs, key=lambda record: record.create_timestamp, default=None)
    return newest.dagster_run if newest is not None and newest.dagster_run.status == DagsterRunStatus.FAILURE else None


def _newest_finished(instance: DagsterInstance, job_name: str):
    """The newest run of the job that ended on its own: an interrupted or killed run has taken in nothing for sure,
    and the next evaluation asks for its work again."""
    for record in instance.get_run_records(RunsFilter(job_name=job_name, statuses=_FINISHED), limit=20):
        if ended_on_its_own(record.dagster_run):
            return record
    return None


def _built_whole(instance: DagsterInstance, settings: SpotifySettings) -> bool:
    """A whole build has succeeded, its file is published, and it was made with today's settings and models: only
    then can an update limited to what lies downstream of the polled plays find everything else in place."""
    if not instance.get_run_records(RunsFilter(job_name=build_warehouse_job.name, statuses=[DagsterRunStatus.SUCCESS]),
                                    limit=1):
        return False
    stale = build_state.stale_reason(settings, build_state.current_fingerprint(settings))
    return settings.published_marts_path.exists() and not stale


@sensor(
    jobs=[build_warehouse_job, update_after_poll_job],
    minimum_interval_seconds=CHAIN_SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Brings the warehouse up to date after an import, a poll or an enrichment: the whole build, or after "
    "polled plays alone the update downstream of them (the rule in defs/warehouse_updates.py, which the commands "
    "follow too).",
)
def warehouse_update_sensor(context: SensorEvaluationContext, spotify_settings: SpotifySettings):
    update = warehouse_update(context.instance, spotify_settings)
    if isinstance(update, NoUpdate):
        return SkipReason(update.reason[0].upper() + update.reason[1:] + ".")
    run_key, tags = keyed(context.instance, update.request)
    return RunRequest(run_key=run_key, job_name=update.job_name, tags={"spotify/reason": update.reason, **tags})
