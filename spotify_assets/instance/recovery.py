"""Runs whose process is gone are failed, and the `warehouse` pool slot they held is given back.

A run killed with SIGKILL (an out-of-memory kill, a power cut) never reports its end: it stays STARTED, and the
pool slot its step claimed stays claimed, so every later step that writes the warehouse waits for it forever.
Dagster frees such slots only when a run is deleted, from the UI's "free slots" button, or, with run monitoring,
some time after a run is marked finished (dagster.yaml turns that on); nothing notices that a local run's process
died. So every command and the daemon (`dead_run_sensor`) call `fail_dead_runs` first: a run is dead when the
process that started it (the pid of its RUN_START event, on this machine) no longer exists, or is a newer process
that reuses the pid.

A run that never started (NOT_STARTED: its process was killed between creating it and starting it) is judged by the
process that created it, which `spotify-assets` names in the tag `spotify/pid`.

Runs are judged only where their process can be: on an instance in local SQLite files (the project's default, one
machine), every run; elsewhere, only the runs `spotify-assets` started on this host (tagged `spotify/host`). Other
runs are left to Dagster's run monitoring.

Private Dagster calls, kept in this module (tests/test_run_recovery.py fails the day an upgrade breaks them):
`instance.event_log_storage` (the concurrency slot tables: freeing a run's slots, reading a pool's claims, giving a
free slot to a step that missed it), `instance.report_run_failed` and `instance.add_run_tags`.
"""

from __future__ import annotations

import os
import socket

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from spotify_assets.lib.processes import is_running
from spotify_assets.lib.warehouse import WAREHOUSE_POOL

HOST_TAG = "spotify/host"
PID_TAG = "spotify/pid"
# How a run ended when nothing in it failed: "interrupted" (Ctrl-C or SIGTERM) or "process gone" (killed). Such a run
# is not a verdict on its work: the warehouse update rule does not count it as having taken in its sources.
ENDED_TAG = "spotify/ended"
INTERRUPTED, PROCESS_GONE = "interrupted", "process gone"
_ACTIVE = [DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED,
           DagsterRunStatus.CANCELING]
_LOCAL_STORAGES = {"DagsterSqliteStorage"}


def run_tags() -> dict[str, str]:
    """Tags of a run `spotify-assets` executes in its own process: this host, and this process."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def mark_interrupted(instance: DagsterInstance, run_id: str) -> None:
    instance.add_run_tags(run_id, {ENDED_TAG: INTERRUPTED})


def ended_on_its_own(run) -> bool:
    """A finished run that was neither interrupted nor killed."""
    return run.tags.get(ENDED_TAG) is None


# The request a run carries out, as the sensor that asked for it names it (without the suffix below).
REQUEST_TAG = "spotify/request"


def keyed(instance: DagsterInstance, request: str) -> tuple[str, dict[str, str]]:
    """The run key and tags for `request`. A run key is launched once (by the daemon and by the commands alike), so
    a request whose run was interrupted or whose process died gets a new key, `<request>:again-<n>`: its work is done
    again, while a run that failed on its own is not repeated."""
    runs = instance.get_runs(filters=RunsFilter(tags={REQUEST_TAG: request}))
    again = sum(1 for run in runs if run.is_finished and not ended_on_its_own(run))
    return (f"{request}:again-{again}" if again else request), {REQUEST_TAG: request}


def fail_dead_runs(instance: DagsterInstance) -> list[str]:
    """Fail the active runs whose process is gone and free their pool slots; free the slots finished runs still hold.
    Returns the ids of the runs it failed."""
    storage_data = None if instance.is_ephemeral else instance.get_ref().storage_data
    local = instance.is_ephemeral or (storage_data is not None and storage_data.class_name in _LOCAL_STORAGES)
    host = socket.gethostname()
    failed = []
    for record in instance.get_run_records(filters=RunsFilter(statuses=_ACTIVE)):
        run = record.dagster_run
        if not (local or run.tags.get(HOST_TAG) == host):
            continue
        if run.status == DagsterRunStatus.NOT_STARTED:
            pid = int(run.tags[PID_TAG]) if run.tags.get(PID_TAG, "").isdigit() else None
            started_at = record.create_timestamp.timestamp()
        else:
            # The RUN_START event is stored before the run's record says STARTED: a run read in between has no
            # start time yet, and its process began after the run was created, so the event's own time counts.
            pid, started_at = _started_by(instance, run.run_id)
        if pid is None or is_running(pid, started_before=record.start_time or started_at):
            continue
        instance.add_run_tags(run.run_id, {ENDED_TAG: PROCESS_GONE})
        instance.report_run_failed(run, message=f"The process that ran it (pid {pid}) ended without a word (killed, "
                                                "or the machine stopped); its warehouse slot is free again.")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        failed.append(run.run_id)
    storage = instance.event_log_storage
    for run_id in storage.get_concurrency_run_ids():
        run = instance.get_run_by_id(run_id)
        if run is not None and run.is_finished:
            storage.free_concurrency_slots_for_run(run_id)
    assign_free_slots(instance, WAREHOUSE_POOL)
    return failed


def assign_free_slots(instance: DagsterInstance, pool: str) -> bool:
    """Give a free slot of `pool` to the step waiting longest, when one is free and a step waits unassigned.

    Dagster assigns a freed slot to a waiting step when the slot is freed. On SQLite a step that joins the queue while
    the slot's holder frees it can miss that moment (it found no free slot, then the holder freed it before the step's
    queue entry existed): it then waits for an assignment that already happened, forever, beside a free slot. Returns
    whether it assigned one."""
    storage = instance.event_log_storage
    if not storage.has_unassigned_slots(pool):
        return False
    if not any(step.assigned_timestamp is None for step in storage.get_concurrency_info(pool).pending_steps):
        return False
    storage.assign_pending_steps([pool])
    return True


def slot_holders(instance: DagsterInstance, pool: str) -> list[tuple[str, str]]:
    """(run id, step) of every step holding a slot of `pool` now."""
    info = instance.event_log_storage.get_concurrency_info(pool)
    return [(slot.run_id, slot.step_key) for slot in info.claimed_slots]


def is_waiting(instance: DagsterInstance, pool: str, run_id: str) -> bool:
    """Whether a step of `run_id` waits for a slot of `pool`."""
    info = instance.event_log_storage.get_concurrency_info(pool)
    return any(step.run_id == run_id and step.assigned_timestamp is None for step in info.pending_steps)


def _started_by(instance: DagsterInstance, run_id: str) -> tuple[int | None, float | None]:
    """The pid of the process that started the run (every Dagster event records its process), and when it did."""
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.RUN_START, limit=1).records
    if not records or records[0].event_log_entry.dagster_event is None:
        return None, None
    entry = records[0].event_log_entry
    return entry.dagster_event.pid, entry.timestamp
