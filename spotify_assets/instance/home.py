"""The Dagster instance the command line, the UI and the daemon share.

`DAGSTER_HOME` wins when set. Otherwise it is `$SPOTIFY_DATA_DIR/dagster_home`, seeded with the
project's `dagster.yaml` (SQLite storage in the home itself, telemetry off, pool `warehouse` limited to one step),
so the demo needs no set-up and `make ui` shows the very runs the command line made.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dagster import DagsterInstance

from spotify_assets.settings import SpotifySettings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROJECT_INSTANCE_CONFIG = PROJECT_ROOT / "dagster.yaml"
# Homes seeded by earlier versions name a storage class that is gone; their files are `storage: sqlite`'s, in the
# layout the default storage uses, so the current seed replaces such a dagster.yaml and every run stays.
_RETIRED_STORAGE = "class: PooledSqliteStorage"


def dagster_home_path(settings: SpotifySettings) -> Path:
    """The instance's folder: DAGSTER_HOME when set, else `dagster_home` in the data folder."""
    configured = os.environ.get("DAGSTER_HOME")
    return Path(configured).resolve() if configured else settings.data_path / "dagster_home"


def dagster_home(settings: SpotifySettings) -> Path:
    """The instance's folder, created and seeded on first use (nothing is set in this process's environment)."""
    home = dagster_home_path(settings)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    seeded_before = config.exists() and _RETIRED_STORAGE in config.read_text()
    if (seeded_before or not config.exists()) and PROJECT_INSTANCE_CONFIG.exists():
        shutil.copyfile(PROJECT_INSTANCE_CONFIG, config)
    return home


_INSTANCES: dict[Path, DagsterInstance] = {}


def get_instance(settings: SpotifySettings) -> DagsterInstance:
    """One instance per home for the whole process: a command runs up to four jobs, and setting up an
    instance's storage costs about 0.4 s each time."""
    home = dagster_home(settings)
    if home not in _INSTANCES:
        _INSTANCES[home] = open_instance(home)
    return _INSTANCES[home]


def open_instance(home: Path) -> DagsterInstance:
    """The instance in `home`. Opening a new home creates its SQLite tables; two processes doing that at once
    both create and stamp them (the second fails, or leaves two schema versions that no later process can open), so
    opening takes an exclusive lock on the home first."""
    import fcntl

    home.mkdir(parents=True, exist_ok=True)
    with (home / ".instance.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return DagsterInstance.from_config(str(home))
