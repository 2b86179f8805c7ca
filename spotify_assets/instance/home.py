"""The Dagster instance the command line, the UI and the daemon share.

`DAGSTER_HOME` wins when set. Otherwise it is `$SPOTIFY_DATA_DIR/dagster_home`, seeded with the
project's `dagster.yaml` (SQLite storage, telemetry off, pool `warehouse` limited to one step), so the
demo needs no set-up and `make ui` shows the very runs the command line made.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dagster import DagsterInstance

from spotify_assets.settings import SpotifySettings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROJECT_INSTANCE_CONFIG = PROJECT_ROOT / "dagster.yaml"


def dagster_home(settings: SpotifySettings) -> Path:
    configured = os.environ.get("DAGSTER_HOME")
    home = Path(configured).resolve() if configured else settings.data_path / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists() and PROJECT_INSTANCE_CONFIG.exists():
        shutil.copyfile(PROJECT_INSTANCE_CONFIG, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


_INSTANCES: dict[Path, DagsterInstance] = {}


def get_instance(settings: SpotifySettings) -> DagsterInstance:
    """One instance per home for the whole process: a command runs up to three jobs, and setting up an
    instance's storage costs about 0.4 s each time."""
    home = dagster_home(settings)
    if home not in _INSTANCES:
        _INSTANCES[home] = open_instance()
    return _INSTANCES[home]


def open_instance() -> DagsterInstance:
    """The instance at DAGSTER_HOME. Opening a new home creates its SQLite tables; two processes doing that at once
    both create and stamp them (the second fails, or leaves two schema versions that no later process can open), so
    opening takes an exclusive lock on the home first."""
    import fcntl

    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".instance.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return DagsterInstance.get()
