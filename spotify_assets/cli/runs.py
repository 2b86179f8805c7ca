"""How a command gets work done: it evaluates the daemon's own sensors and schedules (the very definitions, against the
instance the UI and the daemon share) and runs what they request, in this process, until nothing more is requested.
A command and the daemon therefore cannot differ in what they run: the same requests, the same run keys (a request
the daemon or another command already launched is not launched again), the same limits. Each run is tagged as the
daemon tags it (`dagster/sensor_name` or `dagster/schedule_name`, `dagster/run_key`), so the UI shows which sensor
asked for it, and `spotify/command` says which command ran it.

The terminal gets one line per run started, one per warning a run logged, and the command's one-line reason when
something failed; the runs log in full to the instance (the UI) and to $SPOTIFY_DATA_DIR/logs/runs.log.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from spotify_assets.cli import terminal
from spotify_assets.cli.failures import INTERRUPTED, CommandFailed, interrupted
from spotify_assets.settings import SpotifySettings

# Runs log in full to the Dagster instance (the UI shows them); the terminal gets one line per warning (run_job)
# and the command's own one-line reason when something failed.
_SILENT_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
# Dagster's own note that a step was skipped after another failed: the command reports that failure instead.
_FAILED_UPSTREAM = "Dependencies for step"
# Dagster's tags for a run a sensor or a schedule requested (the daemon's dedup of run keys reads them).
SENSOR_NAME_TAG, SCHEDULE_NAME_TAG, RUN_KEY_TAG = "dagster/sensor_name", "dagster/schedule_name", "dagster/run_key"
COMMAND_TAG = "spotify/command"
# A command waits this long for a run of another process (the daemon's, another command's) to end before it says the
# warehouse could not be brought up to date.
OTHER_RUN_WAIT_SECONDS = 600
_ROUNDS = 50  # requests that keep coming after this many rounds are a bug, not work


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


def run_job(settings: SpotifySettings, job_name: str, run_config: dict | None = None, tags: dict | None = None,
            **options):
    """Run one of the code location's jobs in the shared instance, in this process; dbt's progress lines go to
    logs/runs.log, and each warning the run logged is printed as one line. Runs whose process died are failed first
    (their warehouse slot would block this one forever), and a run that has to wait for the warehouse says which run it
    waits for."""
    from dagster import DagsterRunStatus

    from spotify_assets.instance.home import get_instance
    from spotify_assets.instance.recovery import mark_interrupted, run_tags

    instance = get_instance(settings)
    job = definitions().resolve_job_def(job_name)
    if interrupted():  # Ctrl-C came while the command was between runs
        raise KeyboardInterrupt
    recover_dead_runs(instance)
    run_id = str(uuid.uuid4())
    try:
        with terminal.output_to_log(settings.data_path / "logs" / "runs.log"), _announce_waiting(instance, run_id):
            # The job's own configuration (the after-poll update's scoped key tests), with what the command adds.
            result = job.execute_in_process(
                instance=instance, run_config=_merged(_merged(job.run_config or {}, run_config or {}), _SILENT_CONSOLE),
                raise_on_error=False, run_id=run_id, tags={**run_tags(), **(tags or {})}, **options)
    except KeyboardInterrupt:  # Ctrl-C outside the steps Dagster guards: the run is no verdict on its work either
        run = instance.get_run_by_id(run_id)
        if run is not None and run.status != DagsterRunStatus.SUCCESS:
            mark_interrupted(instance, run_id)
        raise
    if interrupted() or any(
            event.is_step_failure and event.step_failure_data.error
            and event.step_failure_data.error.cls_name == "DagsterExecutionInterruptedError" for event in result.all_events):
        if not result.success:
            mark_interrupted(instance, result.run_id)  # not a verdict on its work: the next command does it again
        INTERRUPTED.set()  # Ctrl-C or SIGTERM during the run: stop here, as the run did
        raise KeyboardInterrupt
    for record in instance.all_logs(result.run_id):
        if (record.dagster_event is None and record.level >= logging.WARNING and record.user_message
                and not record.user_message.startswith(_FAILED_UPSTREAM)):  # the failure itself is reported
            terminal.warn(f"warning: {record.user_message.strip().splitlines()[0]}")
    return result


def recover_dead_runs(instance) -> None:
    """Fail the runs whose process is gone (a kill -9, a power cut), saying so: their warehouse slot and their
    unfinished state would hold up everything after them."""
    from spotify_assets.instance.recovery import fail_dead_runs

    for run_id in fail_dead_runs(instance):
        terminal.warn(f"warning: run {run_id} had died (its process is gone); marked failed, its work is done again")


@contextmanager
def _announce_waiting(instance, run_id: str) -> Iterator[None]:
    """While the run executes: when it waits for the warehouse pool, say once (on stderr) which run holds it; and when
Ctrl-C has come but the run goes on (its exception was lost in a garbage collection's callback), interrupt it again,
once a second, until it stops."""
    from spotify_assets.instance.recovery import (
        assign_free_slots,
        is_waiting,
        slot_holders,
    )
    from spotify_assets.lib.warehouse import WAREHOUSE_POOL

    done = threading.Event()

    said = False

    def watch() -> None:
        nonlocal said
        ticks = 0
        while not done.wait(0.5):
            ticks += 1
            if interrupted():
                if ticks % 2 == 0:
                    os.kill(os.getpid(), signal.SIGINT)
                continue
            if ticks % 4:
                continue
            try:
                if not is_waiting(instance, WAREHOUSE_POOL, run_id):
                    continue
                if assign_free_slots(instance, WAREHOUSE_POOL):  # the slot is free: it missed its turn
                    continue
                holders = [holder for holder, _ in slot_holders(instance, WAREHOUSE_POOL) if holder != run_id]
            except Exception:  # a busy instance database: look again at the next turn
                continue
            if holders and not said:
                holder = instance.get_run_by_id(holders[0])
                name = f"{holder.job_name}, " if holder else ""
                terminal.warn(f"waiting for the warehouse: run {holders[0]} ({name}see the Dagster UI) is writing it; "
                              "this one starts when it ends")
                said = True

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


# ------------------------------------------------------------------------------------------------- following


@dataclass
class Launched:
    """What one command ran, in order, and which of those runs failed (one line each)."""

    results: list = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __iadd__(self, other: Launched) -> Launched:
        self.results += other.results
        self.failures += other.failures
        return self

    def jobs(self) -> list[str]:
        return [result.dagster_run.job_name for result in self.results]

    def failure(self) -> CommandFailed | None:
        return CommandFailed("; ".join(self.failures)) if self.failures else None


def evaluate(settings: SpotifySettings, name: str):
    """What the sensor or schedule `name` requests now: (job name, run requests, dynamic partition requests, skip
    message). The definition itself is evaluated, as the daemon evaluates it, against the shared instance."""
    from dagster import (
        RunRequest,
        SensorResult,
        SkipReason,
        build_schedule_context,
        build_sensor_context,
    )

    from spotify_assets.instance.home import get_instance

    defs = definitions()
    instance = get_instance(settings)
    resources = {"spotify_settings": settings}
    sensors = {sensor.name: sensor for sensor in defs.sensors or []}
    if name in sensors:
        instigator = sensors[name]
        answer = instigator(build_sensor_context(instance=instance, resources=resources, definitions=defs))
    else:
        instigator = next(schedule for schedule in defs.schedules or [] if schedule.name == name)
        answer = instigator(build_schedule_context(instance=instance, resources=resources))
    requests, partitions, skipped = [], [], None
    # SensorResult and RunRequest are named tuples: only a plain list is a list of answers.
    answers = answer if isinstance(answer, list) else [answer] if answer is not None else []
    for item in answers:
        if isinstance(item, RunRequest):
            requests.append(item)
        elif isinstance(item, SkipReason):
            skipped = item.skip_message
        elif isinstance(item, SensorResult):
            requests += list(item.run_requests or [])
            partitions += list(item.dynamic_partitions_requests or [])
            skipped = item.skip_reason.skip_message if item.skip_reason else skipped
    try:
        job_name = instigator.job_name
    except Exception:  # a sensor with several jobs: its requests name theirs
        job_name = None
    return job_name, requests, partitions, skipped


def _has_sensor(defs, name: str) -> bool:
    return any(sensor.name == name for sensor in defs.sensors or [])


def follow(settings: SpotifySettings, names: list[str], command: str, *, describe=None, once: bool = False,
           on_skip=None) -> Launched:
    """Evaluate the sensors and schedules `names` in turn and run what they request, until a whole round runs nothing
    (`once`: one round). A request whose run key a run already carries (launched by the daemon or another command) is
    not run again; a request that failed once in this command is not tried again by it (the daemon's own limits, such
    as the import attempts, decide when to try again)."""
    from spotify_assets.instance.home import get_instance

    instance = get_instance(settings)
    recover_dead_runs(instance)
    launched, failed_here = Launched(), set()
    for _ in range(1 if once else _ROUNDS):
        ran = 0
        for name in names:
            job_name, requests, partitions, skipped = evaluate(settings, name)
            for partition_request in partitions:
                missing = [key for key in partition_request.partition_keys
                           if not instance.has_dynamic_partition(partition_request.partitions_def_name, key)]
                if missing:
                    instance.add_dynamic_partitions(partition_request.partitions_def_name, missing)
            if not requests and skipped and on_skip:
                on_skip(name, skipped)
            for request in requests:
                job = request.job_name or job_name
                identity = (job, request.partition_key, request.tags.get("dagster/asset_partition_range_start"))
                if identity in failed_here or (request.run_key and _launched_before(instance, name, request.run_key)):
                    continue
                if describe:
                    terminal.say(describe(job, request))
                kind_tag = SENSOR_NAME_TAG if _has_sensor(definitions(), name) else SCHEDULE_NAME_TAG
                tags = {**request.tags, kind_tag: name, COMMAND_TAG: command}
                if request.run_key:
                    tags[RUN_KEY_TAG] = request.run_key
                result = run_job(settings, job, run_config=request.run_config or None, tags=tags,
                                 partition_key=request.partition_key)
                launched.results.append(result)
                ran += 1
                if not result.success:
                    failed_here.add(identity)
                    launched.failures.append(_failure_line(job, request, result))
        if not ran:
            break
    return launched


def _launched_before(instance, instigator: str, run_key: str) -> bool:
    """The daemon's own test: a run carries this run key and names this sensor or schedule."""
    from dagster import RunsFilter

    return any(run.tags.get(SENSOR_NAME_TAG) == instigator or run.tags.get(SCHEDULE_NAME_TAG) == instigator
               for run in instance.get_runs(filters=RunsFilter(tags={RUN_KEY_TAG: run_key})))


def _failure_line(job_name: str, request, result) -> str:
    what = {"import_spotify_export_job": f"the import of {request.tags.get('spotify/export', request.partition_key)}",
            "build_warehouse_job": "the warehouse build", "update_after_poll_job": "the warehouse update",
            "poll_recently_played_job": "the poll", "recently_played_items_job": "loading the polled plays",
            "lastfm_enrichment_job": "the Last.fm enrichment", "catalog_enrichment_job": "the catalog enrichment",
            }.get(job_name, job_name)
    return f"{what} failed ({failure_reason(result)}); see run {result.run_id} in the Dagster UI"


# ------------------------------------------------------------------------------------------- the warehouse


def update_warehouse(settings: SpotifySettings, command: str) -> Launched:
    """Evaluate the daemon's warehouse_update_sensor and run what it requests, until the warehouse has taken in every
    change of its sources. A warehouse run of another process (the daemon's, another command's) is waited for, up to
    OTHER_RUN_WAIT_SECONDS. Raises CommandFailed when the warehouse could not be brought up to date: the run that
    took in the changes failed, or another process's run did not end in time."""
    from spotify_assets.cli.prepare import prepare_dbt_manifest
    from spotify_assets.defs.warehouse_updates import (
        WarehouseUpdate,
        last_warehouse_failure,
        warehouse_update,
    )
    from spotify_assets.instance.home import get_instance

    instance = get_instance(settings)
    launched = Launched()
    deadline, said = time.monotonic() + OTHER_RUN_WAIT_SECONDS, False
    recover_dead_runs(instance)
    while True:
        update = warehouse_update(instance, settings)
        if isinstance(update, WarehouseUpdate):
            prepare_dbt_manifest(settings)
            ran = follow(settings, ["warehouse_update_sensor"], command, once=True,
                         describe=lambda job, request: f"building the warehouse ({request.tags['spotify/reason']})")
            launched += ran
            if launched.failures:
                raise launched.failure()
            if ran.results:
                continue
            break  # requested before, by this run key: its run has ended, and the daemon would not ask again either
        if update.waiting_for is None:
            break
        if time.monotonic() > deadline:
            raise CommandFailed(f"the warehouse was not brought up to date: run {update.waiting_for.run_id} "
                                f"({update.waiting_for.job_name}) has not ended after {OTHER_RUN_WAIT_SECONDS // 60} "
                                "minutes; what landed stays, and the warehouse takes it in when that run ends (or "
                                "with `spotify-assets build`)")
        if not said:
            terminal.say(f"waiting for run {update.waiting_for.run_id} ({update.waiting_for.job_name}, started "
                         "elsewhere) to end")
            said = True
        recover_dead_runs(instance)
        time.sleep(2)
    failure = last_warehouse_failure(instance)
    if failure is not None:
        raise CommandFailed(f"the last warehouse build failed (run {failure.run_id}); the published marts are from the "
                            "build before it: see the run in the Dagster UI, then `spotify-assets build`")
    return launched


def build_warehouse(settings: SpotifySettings, full_refresh: bool = False) -> None:
    """The whole build (every model and test), whatever has changed."""
    from spotify_assets.cli.prepare import prepare_dbt_manifest

    prepare_dbt_manifest(settings)
    terminal.say(f"building the warehouse (dbt build{' --full-refresh' if full_refresh else ''})")
    result = run_job(settings, "build_warehouse_job",
                     {"ops": {"warehouse_models": {"config": {"full_refresh": full_refresh}}}},
                     tags={COMMAND_TAG: "build"})
    if not result.success:
        raise CommandFailed(f"the warehouse build failed ({failure_reason(result)}); see run {result.run_id} in the "
                            "Dagster UI")

