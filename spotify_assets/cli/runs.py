"""How a command runs the code location's jobs: in this process, in the instance the UI and the daemon share, with the
same requests the sensors and schedules make, so what a command did shows in the UI exactly like a run the daemon
started. Each warning a run logged is printed as one line; a failure as the command's one-line reason."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout

from spotify_assets.settings import SpotifySettings

# Runs log in full to the Dagster instance (the UI shows them); the terminal gets one line per warning (run_job)
# and the command's own one-line reason when something failed.
_SILENT_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
# Dagster's own note that a step was skipped after another failed: the command reports that failure instead.
_FAILED_UPSTREAM = "Dependencies for step"
INTERRUPTED = threading.Event()  # set by Ctrl-C (SIGINT) or SIGTERM: the command stops, exit status 130


class CommandFailed(Exception):
    """A one-line reason for a non-zero exit."""


def definitions():
    from spotify_assets.definitions import (
        defs,  # imported late: it loads Dagster and the dbt manifest
    )

    return defs


def _merged(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merged(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


@contextmanager
def _output_to_log(settings: SpotifySettings) -> Iterator[None]:
    """dbt's progress lines go to $SPOTIFY_DATA_DIR/logs/runs.log; the run itself is in the UI."""
    log_path = settings.data_path / "logs" / "runs.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as log, redirect_stdout(log):
        yield


def run_job(settings: SpotifySettings, job_name: str, run_config: dict | None = None, tags: dict | None = None,
            **options):
    """Run one of the code location's jobs in the shared instance, as the daemon would, in this process; dbt's progress
    lines go to logs/runs.log, and each warning the run logged is printed as one line. Runs whose process died are
    failed first (their warehouse slot would block this one forever), and a run that has to wait for the warehouse
    says which run it waits for."""
    import logging
    import uuid

    from spotify_assets.instance.home import get_instance
    from spotify_assets.instance.recovery import fail_dead_runs, run_tags

    instance = get_instance(settings)
    job = definitions().resolve_job_def(job_name)
    for run_id in fail_dead_runs(instance):
        print(f"warning: run {run_id} had died holding the warehouse (its process is gone); marked failed",
              file=sys.stderr, flush=True)
    run_id = str(uuid.uuid4())
    with _output_to_log(settings), _announce_waiting(instance, run_id):
        # The job's own configuration (the after-poll update's scoped key tests), with what the command adds.
        result = job.execute_in_process(
            instance=instance, run_config=_merged(_merged(job.run_config or {}, _SILENT_CONSOLE), run_config or {}),
            raise_on_error=False,
            run_id=run_id, tags={**run_tags(), **(tags or {})}, **options)
    if any(event.is_step_failure and event.step_failure_data.error
           and event.step_failure_data.error.cls_name == "DagsterExecutionInterruptedError" for event in result.all_events):
        INTERRUPTED.set()  # Ctrl-C or SIGTERM during the run: stop here, as the run did
        raise KeyboardInterrupt
    for record in instance.all_logs(result.run_id):
        if (record.dagster_event is None and record.level >= logging.WARNING and record.user_message
                and not record.user_message.startswith(_FAILED_UPSTREAM)):  # the failure itself is reported
            print(f"warning: {record.user_message.strip().splitlines()[0]}", file=sys.stderr, flush=True)
    return result


@contextmanager
def _announce_waiting(instance, run_id: str) -> Iterator[None]:
    """While the run waits for the warehouse pool, say once (on stderr) which run holds it."""
    import threading

    from spotify_assets.instance.recovery import is_waiting, slot_holders
    from spotify_assets.lib.warehouse import WAREHOUSE_POOL

    done = threading.Event()
    stderr = sys.stderr  # the real one: stdout is redirected to the log meanwhile

    def watch() -> None:
        while not done.wait(2.0):
            try:
                if not is_waiting(instance, WAREHOUSE_POOL, run_id):
                    continue
                holders = [holder for holder, _ in slot_holders(instance, WAREHOUSE_POOL) if holder != run_id]
            except Exception:  # a busy instance database: look again at the next turn
                continue
            if holders:
                holder = instance.get_run_by_id(holders[0])
                name = f"{holder.job_name}, " if holder else ""
                print(f"waiting for the warehouse: run {holders[0]} ({name}see the Dagster UI) is writing it; this "
                      "one starts when it ends", file=stderr, flush=True)
                return

    watcher = threading.Thread(target=watch, name="warehouse-wait-notice", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


def failure_reason(result) -> str:
    """The innermost error message of a failed in-process run: what the listener can act on."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            return error.message.strip().splitlines()[-1]
    return "see the run in the Dagster UI"


def update_warehouse(settings: SpotifySettings) -> None:
    """The run the daemon's warehouse_update_sensor would launch now (the same rule, defs/warehouse_updates.py):
    the whole build, the update after a poll, or nothing when the warehouse has taken in every change."""
    from spotify_assets.cli.prepare import prepare_dbt_manifest
    from spotify_assets.defs.warehouse_updates import warehouse_update
    from spotify_assets.instance.home import get_instance

    update = warehouse_update(get_instance(settings), settings)
    if isinstance(update, str):
        print(f"warehouse: {update}", flush=True)
        return
    prepare_dbt_manifest(settings)
    print(f"building the warehouse ({update.reason})", flush=True)
    result = run_job(settings, update.job_name, tags={"spotify/reason": update.reason})
    if not result.success:
        raise CommandFailed(f"the warehouse build failed; see run {result.run_id} in the Dagster UI")


def build_warehouse(settings: SpotifySettings, full_refresh: bool = False) -> None:
    """The whole build (every model and test), whatever has changed."""
    from spotify_assets.cli.prepare import prepare_dbt_manifest

    prepare_dbt_manifest(settings)
    print(f"building the warehouse (dbt build{' --full-refresh' if full_refresh else ''})", flush=True)
    result = run_job(settings, "build_warehouse_job",
                     {"ops": {"warehouse_models": {"config": {"full_refresh": full_refresh}}}})
    if not result.success:
        raise CommandFailed(f"the warehouse build failed; see run {result.run_id} in the Dagster UI")
