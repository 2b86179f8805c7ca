"""What brings the warehouse up to date after its sources changed: one rule, which the daemon's sensor and every
command that wrote a source (`import`, `poll`, `enrich`) both follow, so a command runs exactly the runs the daemon
would have launched.

A source changed when it was materialized after the start of the newest finished run that covers it. The whole
build (`build_warehouse_job`) covers every source; the after-poll update (`update_after_poll_job`) covers only the
polled plays, so it is chosen when they are all that changed and the warehouse has been built whole, with the
settings it has now. A finished run counts whether it succeeded or not: a failed build is not retried until new
data arrives (the run's page in the UI says why it failed). While a source or a warehouse run is queued or running,
nothing is requested: its end is the next change, and one build then takes in everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from spotify_assets.defs.catalog.assets import RAW_CATALOG_KEY
from spotify_assets.defs.exports.assets import EXPORT_FILES_KEY
from spotify_assets.defs.jobs import (
    build_warehouse_job,
    catalog_enrichment_job,
    import_spotify_export_job,
    lastfm_enrichment_job,
    poll_recently_played_job,
    recently_played_items_job,
    update_after_poll_job,
)
from spotify_assets.defs.lastfm.assets import RAW_ARTISTS_KEY, RAW_TRACKS_KEY
from spotify_assets.defs.recently_played.assets import ITEMS_KEY
from spotify_assets.lib.transformations import build_state
from spotify_assets.settings import SpotifySettings

# The raw tables the warehouse's models read, each written by its own asset.
SOURCES = (EXPORT_FILES_KEY, ITEMS_KEY, RAW_TRACKS_KEY, RAW_ARTISTS_KEY, RAW_CATALOG_KEY)
# Which sources a finished run of each warehouse job has taken in.
COVERS = {build_warehouse_job.name: SOURCES, update_after_poll_job.name: (ITEMS_KEY,)}
# Runs whose end changes a source or the warehouse: while one is queued or running, the update waits for it.
_WRITERS = {job.name for job in (build_warehouse_job, update_after_poll_job, import_spotify_export_job,
                                 poll_recently_played_job, recently_played_items_job, lastfm_enrichment_job,
                                 catalog_enrichment_job)}
_UNFINISHED = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
               DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
_FINISHED = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]


@dataclass(frozen=True)
class WarehouseUpdate:
    job_name: str
    run_key: str  # the newest source change it takes in: the sensor requests each change once
    reason: str


def warehouse_update(instance: DagsterInstance, settings: SpotifySettings) -> WarehouseUpdate | str:
    """The run that brings the warehouse up to date, or why none is needed now."""
    unfinished = [record.dagster_run for record in instance.get_run_records(RunsFilter(statuses=_UNFINISHED))
                  if record.dagster_run.job_name in _WRITERS]
    if unfinished:
        return f"waiting for run {unfinished[0].run_id} ({unfinished[0].job_name}) to end"
    changes = {key: result.records[0] for key in SOURCES
               if (result := instance.fetch_materializations(key, limit=1)).records}
    if not changes:
        return "no source has sent anything yet"
    covered_since = {key: 0.0 for key in SOURCES}
    for job_name, keys in COVERS.items():
        runs = instance.get_run_records(RunsFilter(job_name=job_name, statuses=_FINISHED), limit=1)
        started = (runs[0].start_time or 0.0) if runs else 0.0
        for key in keys:
            covered_since[key] = max(covered_since[key], started)
    changed = sorted((key for key, record in changes.items() if record.timestamp > covered_since[key]),
                     key=lambda key: key.to_user_string())
    if not changed:
        return "the warehouse has taken in every change of its sources"
    run_key = "sources-" + "-".join(str(changes[key].storage_id) for key in changed)
    names = ", ".join(key.to_user_string() for key in changed)
    if changed == [ITEMS_KEY] and _built_whole(instance, settings):
        return WarehouseUpdate(update_after_poll_job.name, run_key, f"new polled plays ({names})")
    return WarehouseUpdate(build_warehouse_job.name, run_key, f"new data in {names}")


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
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Brings the warehouse up to date after an import, a poll or an enrichment: the whole build, or after "
    "polled plays alone the update downstream of them (the rule in defs/warehouse_updates.py, which the commands "
    "follow too).",
)
def warehouse_update_sensor(context: SensorEvaluationContext, spotify_settings: SpotifySettings):
    update = warehouse_update(context.instance, spotify_settings)
    if isinstance(update, str):
        return SkipReason(update[0].upper() + update[1:] + ".")
    return RunRequest(run_key=update.run_key, job_name=update.job_name, tags={"spotify/reason": update.reason})
