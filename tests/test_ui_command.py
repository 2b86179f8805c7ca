"""`spotify-assets ui` as a supervisor would run it: without an activated virtualenv, in the background,
stopped with SIGTERM."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import cli_environment, free_port

pytestmark = pytest.mark.slow
LOCATIONS = "{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError { __typename } } } } }"



def test_ui_loads_the_code_location_without_an_activated_virtualenv_and_stops_on_sigterm(tmp_path):
    port = free_port()
    environment = cli_environment(tmp_path / "data") | {"PATH": "/usr/bin:/bin"}  # no .venv/bin: as in Docker
    process = subprocess.Popen([str(Path(sys.executable).with_name("spotify-assets")), "ui", "--port", str(port)],
                               env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline, entries = time.monotonic() + 150, None
        while time.monotonic() < deadline:
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": LOCATIONS}, timeout=5).json()
                entries = answer["data"]["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["locationOrLoadError"]:
                    break
            except (httpx.TransportError, KeyError, TypeError, ValueError):
                pass
            time.sleep(2)
        assert entries and entries[0]["locationOrLoadError"]["__typename"] == "RepositoryLocation", entries
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)  # dagster dev and its children stop: nothing ignores SIGTERM
    time.sleep(2)
    leftover = subprocess.run(["pgrep", "-f", f"--port {port}"], capture_output=True, text=True).stdout.split()
    assert leftover == []


def _graphql(port: int, query: str) -> dict:
    return httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=10).json()["data"]


def _poll_environment(data_dir: Path, fake) -> dict[str, str]:
    from conftest import DEMO_ZONE

    return cli_environment(data_dir) | {
        "SPOTIFY_TIMEZONE": DEMO_ZONE, "SPOTIFY_CLIENT_ID": "fake-client-id", "SPOTIFY_CLIENT_SECRET": "fake-client-secret",
        "SPOTIFY_REFRESH_TOKEN": "fake-refresh-token", "SPOTIFY_API_BASE_URL": fake.base_url,
        "SPOTIFY_ACCOUNTS_BASE_URL": fake.base_url}


def _fake_with_plays(now_ms: int):
    from spotify_assets.lib.simulated.spotify import SimulatedSpotify, track_object

    fake = SimulatedSpotify()
    for index in range(30):  # the last two hours, across the UTC midnight when the test runs just after it
        fake.add_play(now_ms - (index + 1) * 4 * 60_000,
                      track_object(f"poll{index % 7}", f"Polled Song {index % 7}", [f"Polled Artist {index % 3}"],
                                   "Polled Album", 180_000, f"QZPOLL{index % 7:05d}"))
    return fake


@contextmanager
def _instance(home: Path):
    from dagster import DagsterInstance

    saved = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)  # its dagster.yaml names its folders through it
    instance = DagsterInstance.get()
    try:
        yield instance
    finally:
        instance.dispose()
        if saved is None:
            os.environ.pop("DAGSTER_HOME")
        else:
            os.environ["DAGSTER_HOME"] = saved


def _runs_after(home: Path, known: set[str]) -> list[dict]:
    """Each run not in `known`, oldest first: its job, status, partition range, and the assets and checks it ran."""
    from dagster import DagsterEventType

    with _instance(home) as instance:
        runs = []
        for run in reversed(instance.get_runs()):
            if run.run_id in known:
                continue
            events = [record.dagster_event for record in instance.all_logs(run.run_id) if record.dagster_event]
            runs.append({
                "id": run.run_id, "job": run.job_name, "status": run.status.value,
                "requested_by": run.tags.get("dagster/sensor_name") or run.tags.get("dagster/schedule_name"),
                "days": (run.tags.get("dagster/asset_partition_range_start"), run.tags.get("dagster/asset_partition_range_end")),
                "assets": sorted({e.asset_key.to_user_string() for e in events
                                  if e.event_type == DagsterEventType.ASSET_MATERIALIZATION}),
                "checks": sorted({f"{e.asset_check_evaluation_data.asset_key.to_user_string()}:{e.asset_check_evaluation_data.check_name}"
                                  for e in events if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION}),
            })
        return runs


def _run_ids(home: Path) -> set[str]:
    with _instance(home) as instance:
        return {run.run_id for run in instance.get_runs()}


# Columns that differ between two polls of the same plays: when the row was built, and an API play's record id (it
# names the response the play came in, which each poll lands under its own time) with the play id made from it.
# A polled play's id follows its response file's name, and a session's id is its first play's.
_OF_THE_MOMENT = {"batch_at", "api_record_id", "play_id", "session_id", "longest_session_id"}


def _marts(path: Path) -> dict[str, list]:
    """Every published table's rows, sorted, without the columns of the moment."""
    import duckdb

    connection = duckdb.connect(str(path), read_only=True)
    try:
        tables = [name for (name,) in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        marts = {}
        for table in tables:
            columns = [f'"{name}"' for (name, *_) in connection.execute(f'DESCRIBE "{table}"').fetchall()
                       if name not in _OF_THE_MOMENT]
            rows = connection.execute(f'SELECT {", ".join(columns)} FROM "{table}"').fetchall()
            marts[table] = sorted(rows, key=lambda row: repr([value for value in row if not isinstance(value, float)]))
        return marts
    finally:
        connection.close()


def _wait_for_run(port: int, known: set[str], job: str, allowed: set[str], output: Path, minutes: int = 7) -> set[str]:
    """Until the daemon has finished a run of `job` that is not in `known`; every other new run must be one of
    `allowed`. Returns the ids of the new runs."""
    deadline = time.monotonic() + minutes * 60
    while time.monotonic() < deadline:
        try:
            runs = _graphql(port, "{ runsOrError { ... on Runs { results { runId jobName status } } } }")
            runs = [run for run in runs["runsOrError"]["results"] if run["runId"] not in known]
            assert {run["jobName"] for run in runs} <= allowed | {job}, runs
            if any(run["jobName"] == job and run["status"] in ("SUCCESS", "FAILURE") for run in runs):
                return {run["runId"] for run in runs}
        except (httpx.TransportError, KeyError, TypeError, ValueError):
            pass
        time.sleep(3)
    pytest.fail(f"the daemon did not finish {job} in {minutes} minutes: {output.read_text()[-3000:]}")


def test_the_daemon_after_the_demo_launches_nothing_then_polls_and_imports_as_the_command_line_does(demo_data_dir,
                                                                                                   tmp_path):
    """The daemon started on the data directory `make demo` filled launches no run of its own (it once imported all
    four exports again and rebuilt every asset). Its schedule's poll then makes the very runs, checks and marts that
    `spotify-assets poll` makes on a copy of the same directory against the same Spotify; and an export dropped into
    its inbox makes the very runs, checks and marts that `spotify-assets import` of that export makes."""
    import shutil

    from conftest import PROJECT_ROOT

    from spotify_assets.lib.synthetic.exports import SyntheticHistory

    now_ms = int(time.time() * 1000)
    by_command, by_daemon = tmp_path / "command" / "data", tmp_path / "daemon" / "data"
    shutil.copytree(demo_data_dir, by_command)
    shutil.copytree(demo_data_dir, by_daemon)
    demo_runs = _run_ids(demo_data_dir / "dagster_home")
    later = SyntheticHistory.generate(plays=1_000, seed=11)
    later.write_exports(tmp_path / "later")
    export = later.exports[0].path

    port = free_port()
    output = tmp_path / "ui.log"
    cli = str(Path(sys.executable).with_name("spotify-assets"))
    with _fake_with_plays(now_ms) as fake, _fake_with_plays(now_ms) as daemons_fake, output.open("w") as log:
        # The schedule polls every minute here: its first tick comes within a minute of the daemon's start.
        environment = _poll_environment(by_daemon, daemons_fake) | {"SPOTIFY_POLL_CRON": "* * * * *"}
        process = subprocess.Popen([cli, "ui", "--port", str(port)], env=environment, cwd=PROJECT_ROOT, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            # Meanwhile, the command line's poll on the other copy, against the other (identical) Spotify.
            completed = subprocess.run([cli, "poll"], env=_poll_environment(by_command, fake), capture_output=True,
                                       text=True, timeout=600)
            assert completed.returncode == 0, completed.stderr
            command_runs = _runs_after(by_command / "dagster_home", demo_runs)
            # Before the schedule's first poll, the sensors (inbox, imports, warehouse update) launch nothing.
            polled = _wait_for_run(port, demo_runs, "update_after_poll_job",
                                   {"poll_recently_played_job", "recently_played_items_job"}, output)
            daemon_runs = _runs_after(by_daemon / "dagster_home", demo_runs)
            # Then the same export, once dropped into the daemon's inbox and once given to `import`.
            known = demo_runs | polled | {run["id"] for run in command_runs}
            shutil.copy2(export, by_daemon / "inbox" / export.name)  # as `mv` from Downloads: settled already
            imported = subprocess.run([cli, "import", str(export)], env=_poll_environment(by_command, fake),
                                      capture_output=True, text=True, timeout=600)
            assert imported.returncode == 0, imported.stderr
            _wait_for_run(port, known, "build_warehouse_job", {"import_spotify_export_job", "poll_recently_played_job",
                                                               "recently_played_items_job", "update_after_poll_job"},
                          output)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    chain = [run for run in daemon_runs if run["job"] != "poll_recently_played_job" or run is daemon_runs[0]]
    assert [run["job"] for run in command_runs] == ["poll_recently_played_job", "recently_played_items_job",
                                                    "update_after_poll_job"]
    assert [_without_id(run) for run in chain[:3]] == [_without_id(run) for run in command_runs]
    assert all(run["status"] == "SUCCESS" for run in command_runs)
    import_runs = {home: [_without_id(run) for run in _runs_after(home / "dagster_home", known)
                          if run["job"] in ("import_spotify_export_job", "build_warehouse_job")]
                   for home in (by_command, by_daemon)}
    assert [run["job"] for run in import_runs[by_command]] == ["import_spotify_export_job", "build_warehouse_job"]
    assert import_runs[by_daemon] == import_runs[by_command]
    assert _same(_marts(by_daemon / "marts.duckdb"), _marts(by_command / "marts.duckdb"))
    log = output.read_text()
    assert "dagster.yaml) in the current folder" not in log
    # `make ui` says where the UI answers, first and once; no warning repeated at every load of the definitions.
    assert log.splitlines()[0].startswith(f"Starting the Dagster UI and its daemon on http://127.0.0.1:{port} ")
    assert log.count(f"127.0.0.1:{port}") == 1 and "code location name" not in log
    # The daemon's runs print warnings on the terminal, not every event (a build printed about 600 lines there);
    # what they print (dbt's progress) goes to the runs' log.
    assert " - DEBUG - " not in log and " START sql " not in log, log[-3000:]
    assert " START sql " in (by_daemon / "logs" / "runs.log").read_text()


def _same(marts: dict[str, list], others: dict[str, list]) -> bool:
    """The same tables with the same rows; weighted genre streams are sums of floats, whose last digits follow the
    order dbt summed them in, so floats agree to a relative 1e-9."""
    import math

    def same_value(value, other) -> bool:
        return math.isclose(value, other, rel_tol=1e-9) if isinstance(value, float) else value == other

    assert marts.keys() == others.keys()
    for table, rows in marts.items():
        assert len(rows) == len(others[table]), table
        for row, other in zip(rows, others[table]):
            assert all(same_value(value, theirs) for value, theirs in zip(row, other)), (table, row, other)
    return True


def _without_id(run: dict) -> dict:
    return {key: value for key, value in run.items() if key != "id"}
