"""A process killed at any moment leaves nothing that blocks or corrupts the next run.

kill -9 of `spotify-assets import` while its run held the `warehouse` pool (in the import step, in dbt, in publishing)
left the run STARTED and the slot claimed: the next import waited forever ("Step blocked by limit for pool
warehouse"). These tests kill real commands at those moments and run the next one."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import cli_environment, expected_raw_rows, raw_counts
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from spotify_assets.instance.recovery import fail_dead_runs, slot_holders
from spotify_assets.lib.processes import is_running, remove_leftovers
from spotify_assets.lib.publishing.publish import PUBLISHING_LEFTOVER, connect_published
from spotify_assets.lib.synthetic.oracle import Oracle, compare_with_marts
from spotify_assets.lib.warehouse import WAREHOUSE_POOL, warehouse_connection
from spotify_assets.settings import SpotifySettings

CLI = str(Path(sys.executable).with_name("spotify-assets"))


def _instance(home: Path) -> DagsterInstance:
    from spotify_assets.instance.home import open_instance

    return open_instance(home)


def _pooled_instance(tmp_path: Path, monkeypatch) -> DagsterInstance:
    """A new instance whose pools allow one step at a time, as the project's dagster.yaml has it."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("concurrency:\n  pools:\n    default_limit: 1\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # the instance's dagster.yaml names its folders through it
    return _instance(home)


def _wait_for_step(home: Path, step: str, timeout: float = 300) -> None:
    """Until a run of the instance at `home` has started `step` (the command's process writes it)."""
    deadline = time.monotonic() + timeout
    while not (home / "history" / "runs.db").exists():  # the command creates the instance's databases first
        assert time.monotonic() < deadline, "the command never created its instance"
        time.sleep(0.2)
    instance = _instance(home)
    try:
        while time.monotonic() < deadline:
            for record in instance.get_run_records(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED])):
                events = instance.get_records_for_run(record.dagster_run.run_id, of_type=DagsterEventType.STEP_START)
                if any(event.event_log_entry.step_key == step for event in events.records):
                    return
            time.sleep(0.2)
    finally:
        instance.dispose()
    pytest.fail(f"step {step} never started")


@pytest.mark.slow
@pytest.mark.parametrize("step, delay", [("import_spotify_export", 0.0), ("warehouse_models", 2.0),
                                         ("published__marts_database", 0.0)])
def test_a_command_killed_holding_the_warehouse_never_blocks_the_next(step, delay, small_history, tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DAGSTER_HOME", str(data_dir / "dagster_home"))  # the instance's dagster.yaml reads it
    environment = cli_environment(data_dir)
    exports = [str(export.path) for export in small_history.exports]
    killed = subprocess.Popen([CLI, "import", *exports], env=environment, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for_step(data_dir / "dagster_home", step)
        time.sleep(delay)  # dbt: in the middle of its models
    finally:
        os.killpg(killed.pid, signal.SIGKILL)  # an out-of-memory kill, a power cut
        killed.wait()

    rerun = subprocess.run([CLI, "import", *exports], env=environment, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert "had died (its process is gone); marked failed" in rerun.stderr
    instance = _instance(data_dir / "dagster_home")
    try:
        assert instance.get_run_records(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED])) == []
        assert slot_holders(instance, WAREHOUSE_POOL) == []
    finally:
        instance.dispose()
    settings = SpotifySettings(data_dir=str(data_dir), timezone="UTC")
    with warehouse_connection(settings, read_only=True) as connection:  # nothing lost, nothing doubled
        counts = raw_counts(connection)
    expected = expected_raw_rows(small_history)
    assert counts == {name: expected.get(name, 0) for name in counts}
    with connect_published(settings.published_marts_path) as connection:
        compared, mismatches = compare_with_marts(Oracle(small_history, "UTC"), connection)
    assert mismatches == [] and compared > 100
    assert not list(data_dir.glob(".publishing-*"))  # a killed publication's half-built file is gone


def test_a_dead_run_is_failed_and_its_slot_freed_and_a_live_one_kept(tmp_path, monkeypatch):
    """The private Dagster calls run_recovery.py depends on, on a real instance: this fails the day an upgrade
    changes them."""
    from dagster import asset, materialize

    instance = _pooled_instance(tmp_path, monkeypatch)
    try:
        @asset(pool=WAREHOUSE_POOL)
        def writes_the_warehouse():
            return 1

        assert materialize([writes_the_warehouse], instance=instance).success
        finished = instance.get_run_records()[0].dagster_run
        # A run whose process is gone, holding the slot: started by a child process that then exited.
        child = subprocess.Popen([sys.executable, "-c", "pass"])
        child.wait()
        dead_id, live_id = str(uuid.uuid4()), str(uuid.uuid4())
        dead = instance.create_run_for_job(job_def=_job_of(writes_the_warehouse), run_id=dead_id,
                                           status=DagsterRunStatus.STARTED)
        _record_start(instance, dead, pid=child.pid)
        live = instance.create_run_for_job(job_def=_job_of(writes_the_warehouse), run_id=live_id,
                                           status=DagsterRunStatus.STARTED)
        _record_start(instance, live, pid=os.getpid())
        storage = instance.event_log_storage
        assert storage.claim_concurrency_slot(WAREHOUSE_POOL, dead_id, "writes_the_warehouse").is_claimed
        assert slot_holders(instance, WAREHOUSE_POOL) == [(dead_id, "writes_the_warehouse")]
        assert fail_dead_runs(instance) == [dead_id]
        assert instance.get_run_by_id(dead_id).status == DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(live_id).status == DagsterRunStatus.STARTED
        assert slot_holders(instance, WAREHOUSE_POOL) == []
        assert instance.get_run_by_id(finished.run_id).status == DagsterRunStatus.SUCCESS
    finally:
        instance.dispose()


def test_a_run_read_between_its_start_event_and_its_record_update_is_alive(tmp_path, monkeypatch):
    """The daemon's run worker stores RUN_START, then the run's record turns STARTED with its start time. A check in
    between judged the worker, started after the run was created, a newer process reusing the pid, and failed a live
    build (the daemon's import build, seen in the UI test)."""
    from dagster import DagsterEvent, EventLogEntry, asset

    instance = _pooled_instance(tmp_path, monkeypatch)
    try:
        @asset(pool=WAREHOUSE_POOL)
        def writes_the_warehouse():
            return 1

        run_id = str(uuid.uuid4())
        run = instance.create_run_for_job(job_def=_job_of(writes_the_warehouse), run_id=run_id,
                                          status=DagsterRunStatus.STARTING)
        time.sleep(2.5)  # the launcher starts the worker: it begins well after the run was created
        worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            event = DagsterEvent(event_type_value=DagsterEventType.RUN_START.value, job_name=run.job_name,
                                 message="started", pid=worker.pid)
            instance.event_log_storage.store_event(EventLogEntry(
                error_info=None, level="DEBUG", user_message="", run_id=run_id, timestamp=time.time(),
                dagster_event=event))  # the event only: the run's record is not updated yet
            assert instance.get_run_record_by_id(run_id).start_time is None
            assert fail_dead_runs(instance) == []
            assert instance.get_run_by_id(run_id).status == DagsterRunStatus.STARTING
        finally:
            worker.kill()
            worker.wait()
        assert fail_dead_runs(instance) == [run_id]  # and once the worker is gone, it is dead
    finally:
        instance.dispose()


def test_a_run_never_started_whose_process_is_gone_is_failed_and_stops_holding_up_builds(tmp_path, monkeypatch):
    """A command killed between creating its run and starting it left the run NOT_STARTED forever: every later import
    exited 0 saying only that it waited for that run, and the marts were never updated."""
    from dagster import asset

    from spotify_assets.defs.warehouse_updates import NoUpdate, warehouse_update
    from spotify_assets.instance.recovery import ENDED_TAG, PID_TAG, PROCESS_GONE

    instance = _pooled_instance(tmp_path, monkeypatch)
    try:
        @asset
        def raw():
            return 1

        child = subprocess.Popen([sys.executable, "-c", "pass"])
        child.wait()
        job = _job_of(raw)
        never = instance.create_run_for_job(job_def=job, status=DagsterRunStatus.NOT_STARTED,
                                            tags={PID_TAG: str(child.pid)})
        ours = instance.create_run_for_job(job_def=job, status=DagsterRunStatus.NOT_STARTED,
                                           tags={PID_TAG: str(os.getpid())})
        assert fail_dead_runs(instance) == [never.run_id]
        assert instance.get_run_by_id(never.run_id).status == DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(never.run_id).tags[ENDED_TAG] == PROCESS_GONE  # its work is to be done again
        assert instance.get_run_by_id(ours.run_id).status == DagsterRunStatus.NOT_STARTED  # its process lives
        instance.report_run_canceled(ours)
        settings = SpotifySettings(data_dir=str(tmp_path / "data"))
        assert isinstance(warehouse_update(instance, settings), NoUpdate)
    finally:
        instance.dispose()


def test_a_step_that_missed_the_free_slot_gets_it(tmp_path, monkeypatch):
    """Two imports at once: the second step joined the warehouse pool's queue just as the first freed the slot, so
    Dagster never gave it the slot (it was freed before the step was queued) and the command waited forever beside a
    free slot. The private storage calls this repair uses fail here the day an upgrade changes them."""
    from spotify_assets.instance.recovery import assign_free_slots

    instance = _pooled_instance(tmp_path, monkeypatch)
    try:
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
        assert storage.claim_concurrency_slot(WAREHOUSE_POOL, "first", "step").is_claimed
        storage.free_concurrency_slot_for_step("first", "step")  # freed before the second step is queued ...
        storage.add_pending_step(concurrency_key=WAREHOUSE_POOL, run_id="second", step_key="step",
                                 should_assign=False)  # ... which had found no free slot a moment before
        assert not storage.check_concurrency_claim(WAREHOUSE_POOL, "second", "step").is_claimed  # stuck
        assert assign_free_slots(instance, WAREHOUSE_POOL)
        assert storage.claim_concurrency_slot(WAREHOUSE_POOL, "second", "step").is_claimed
        assert not assign_free_slots(instance, WAREHOUSE_POOL)  # nothing more to give
    finally:
        instance.dispose()


def _job_of(assets_def):
    from dagster import Definitions, define_asset_job

    return Definitions(assets=[assets_def], jobs=[define_asset_job("job")]).resolve_job_def("job")


def _record_start(instance, run, pid: int) -> None:
    """A RUN_START event as the run's process would have written it."""
    from dagster import DagsterEvent

    event = DagsterEvent(event_type_value=DagsterEventType.RUN_START.value, job_name=run.job_name,
                         message="started", pid=pid)
    instance.report_dagster_event(event, run.run_id)


def test_leftovers_of_dead_processes_are_removed_and_live_work_kept(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = tmp_path / f".publishing-{child.pid}-{'a' * 32}.duckdb"
    live = tmp_path / f".publishing-{os.getpid()}-{'b' * 32}.duckdb"
    dead.write_bytes(b"half a database")
    live.write_bytes(b"being built")
    # What ordering the marts by listener spilled to disk before its process was killed.
    spilled = tmp_path / f".publishing-{child.pid}-{'c' * 32}.spill"
    spilled.mkdir()
    (spilled / "duckdb_temp_storage-0.tmp").write_bytes(b"rows")
    assert not is_running(child.pid) and is_running(os.getpid())
    assert sorted(remove_leftovers(tmp_path, PUBLISHING_LEFTOVER)) == [dead, spilled]
    assert live.exists() and not dead.exists() and not spilled.exists()


@pytest.mark.slow
@pytest.mark.parametrize("delay", [2.0, 4.0])  # two moments of dbt's work: parsing the project, then building
def test_ctrl_c_stops_a_command_even_one_started_with_sigint_ignored(delay, small_history, tmp_path):
    """A script's background job inherits SIGINT ignored: `kill -INT` then did nothing outside a run."""
    data_dir = tmp_path / "data"
    environment = cli_environment(data_dir)
    command = subprocess.Popen([CLI, "import", *[str(export.path) for export in small_history.exports]],
                               env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    for line in command.stdout:
        if line.startswith("building the warehouse"):
            break
    time.sleep(delay)  # dbt is at work
    os.kill(command.pid, signal.SIGINT)
    _, stderr = command.communicate(timeout=60)
    assert command.returncode == 130
    assert stderr.strip().splitlines()[-1] == (
        "spotify-assets import: interrupted; what finished is kept, the rest runs again next time")
    rerun = subprocess.run([CLI, "build"], env=environment, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
