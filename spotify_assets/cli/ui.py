"""`spotify-assets ui`: the Dagster webserver and daemon on the instance the commands use."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

from spotify_assets.cli.prepare import prepare_dbt_manifest
from spotify_assets.settings import SpotifySettings


def run_ui(settings: SpotifySettings, host: str, port: int, log_level: str = "warning") -> None:
    """Replace this process with `dagster dev` (webserver + daemon) on the project's instance, after saying where the UI
    will answer. Dagster's own services log at `log_level` (their INFO lines repeat every few seconds)."""
    import os

    from spotify_assets.cli import terminal
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
        # `dagster dev` itself notes that Dagster's newer `dg dev` supersedes it; `dg` is a separate package this
        # project does not install, and the note addresses its developers, not the listener starting the UI.
        "PYTHONWARNINGS": "ignore:Function `dev_command` is superseded",
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
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    run_output = settings.data_path / "logs" / "runs.log"
    terminal.say(f"Starting the Dagster UI and its daemon on http://{shown}:{port} (it answers in about 20 s; Ctrl-C "
                 f"stops both; what runs print goes to {run_output})")
    sys.stdout.flush()
    # What the runs the daemon launches print (dbt's progress, step by step) goes to the log the commands' runs write
    # to, as for a command; warnings and errors, Dagster's own and the runs' (their console logger's level is
    # WARNING, defs/resources.py), stay on the terminal.
    run_output.parent.mkdir(parents=True, exist_ok=True)
    with run_output.open("a") as log:
        log.write(f"\n--- {datetime.now(timezone.utc).isoformat(timespec='seconds')} spotify-assets ui\n")
        log.flush()
        os.dup2(log.fileno(), 1)
    os.execve(dagster, [dagster, "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", host, "-p", str(port),
                        "--log-level", log_level], environment)
