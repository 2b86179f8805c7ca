"""`spotify-assets ui`: the Dagster webserver and daemon on the instance the commands use."""

from __future__ import annotations

import sys
from pathlib import Path

from spotify_assets.cli.prepare import prepare_dbt_manifest
from spotify_assets.settings import SpotifySettings


def run_ui(settings: SpotifySettings, host: str, port: int) -> None:
    """Replace this process with `dagster dev` (webserver + daemon) on the project's instance."""
    import os

    from spotify_assets.instance.home import PROJECT_ROOT, dagster_home, get_instance

    home = dagster_home(settings)
    prepare_dbt_manifest(settings)
    get_instance(settings)  # its tables exist before the webserver and the daemon open it at once
    environment = {
        **os.environ,
        # The code server runs from the project root: hand it absolute paths so it sees the same data.
        "SPOTIFY_DATA_DIR": str(settings.data_path),
        "SPOTIFY_INBOX": str(settings.inbox_path),
        "DAGSTER_HOME": str(home),
        # Everything dagster dev starts (code server, daemon, run workers) finds this environment's tools even when
        # the virtualenv is not activated (the Dockerfile, `make ui`).
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    # A shell or supervisor that started us in the background may have left SIGINT ignored; dagster dev
    # inherits that and then ignores SIGTERM too, so it could never be stopped. Restore the defaults.
    import signal

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)
    # From the instance's own folder: started in the project folder, dagster dev would warn that the dagster.yaml
    # there (the seed of DAGSTER_HOME's copy) is not used.
    os.chdir(home)
    dagster = str(Path(sys.executable).with_name("dagster"))
    os.execve(dagster, [dagster, "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", host, "-p", str(port)],
              environment)
