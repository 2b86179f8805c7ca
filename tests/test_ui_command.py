"""`spotify-assets ui` as a supervisor would run it: without an activated virtualenv, in the background,
stopped with SIGTERM."""

import os
import signal
import subprocess
import sys
import time
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


def _ticks(port: int, sensor: str) -> int:
    query = ('{ sensorOrError(sensorSelector: {repositoryLocationName: "spotify_assets.definitions", repositoryName: "__repository__", '
             f'sensorName: "{sensor}"}}) {{ ... on Sensor {{ sensorState {{ ticks(limit: 10) {{ status }} }} }} }} }}')
    return len(_graphql(port, query)["sensorOrError"]["sensorState"]["ticks"])


def test_the_daemon_started_after_the_demo_launches_no_run_and_warns_of_no_dagster_yaml(demo_data_dir, tmp_path):
    """`make ui` on the data directory `make demo` filled once imported all four exports again and rebuilt every
    asset and the docs site."""
    import shutil

    from conftest import PROJECT_ROOT

    data_dir = tmp_path / "data"
    shutil.copytree(demo_data_dir, data_dir)
    port = free_port()
    output = tmp_path / "ui.log"
    with output.open("w") as log:
        process = subprocess.Popen([str(Path(sys.executable).with_name("spotify-assets")), "ui", "--port", str(port)],
                                   env=cli_environment(data_dir), cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        runs_before = None
        while time.monotonic() < deadline:
            try:
                if runs_before is None:
                    runs_before = _graphql(port, "{ runsOrError { ... on Runs { count } } }")["runsOrError"]["count"]
                # Two ticks each: the inbox sensor and the automation have seen the data directory and decided.
                if all(_ticks(port, name) >= 2 for name in ("spotify_inbox_sensor", "warehouse_automation_sensor")):
                    break
            except (httpx.TransportError, KeyError, TypeError, ValueError):
                pass
            time.sleep(3)
        else:
            pytest.fail("the daemon's sensors did not tick twice in 4 minutes")
        runs = _graphql(port, "{ runsOrError { ... on Runs { results { jobName status } } } }")["runsOrError"]["results"]
        assert runs_before >= 5 and len(runs) == runs_before, runs  # the demo's runs (and other tests'), nothing new
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    assert "dagster.yaml) in the current folder" not in output.read_text()
