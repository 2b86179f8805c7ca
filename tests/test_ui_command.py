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
