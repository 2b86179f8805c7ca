"""`spotify-assets`: the commands a listener types, one module each. Every run goes through the shared Dagster
instance, so what a command did shows in the UI exactly like a sensor- or schedule-started run."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

DEMO_PLAYS = 20_000
DEMO_SEED = 42


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spotify-assets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="import a bundled synthetic history and build everything")
    demo.add_argument("--plays", type=int, default=DEMO_PLAYS, help=f"true plays to generate (default {DEMO_PLAYS:,})")
    demo.add_argument("--seed", type=int, default=DEMO_SEED)
    importer = commands.add_parser("import", help="import Spotify exports (zip, folder or JSON) and build everything")
    importer.add_argument("paths", nargs="+", type=Path)
    build = commands.add_parser("build", help="build and test the warehouse from what has landed, then publish")
    build.add_argument("--full-refresh", action="store_true", help="rebuild every model instead of the changed days")
    ui = commands.add_parser("ui", help="start the Dagster UI and daemon (sensors, schedules, automation)")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    docs = commands.add_parser("docs", help="generate the dbt docs site and serve it on 127.0.0.1 (Ctrl-C stops)")
    docs.add_argument("--host", default="127.0.0.1")
    docs.add_argument("--port", type=int, default=8080)
    docs.add_argument("--no-generate", action="store_true", help="serve the site generated last")
    docs.add_argument("--no-serve", action="store_true", help="generate the site and exit")
    health = commands.add_parser("healthcheck", help="exit 0 when the UI's webserver answers and its daemon is healthy")
    health.add_argument("--host", default="127.0.0.1")
    health.add_argument("--port", type=int, default=3000)
    commands.add_parser("prepare", help="build dbt's manifest (done by `make install`)")
    auth = commands.add_parser("auth", help="authorize your own Spotify app once (scope user-read-recently-played)")
    auth.add_argument("--client-id", help="your app's Client ID (default: SPOTIFY_CLIENT_ID)")
    auth.add_argument("--redirect-uri", default="http://127.0.0.1:8888/callback",
                      help="must be registered in your app's settings (default: %(default)s)")
    auth.add_argument("--print-only", action="store_true", help="print export lines instead of storing the credentials")
    auth.add_argument("--timeout", type=float, default=300, help="seconds to wait for the redirect")
    commands.add_parser("poll", help="poll recently-played once, then update the warehouse (what the schedule runs)")
    commands.add_parser("enrich", help="one Last.fm and Spotify catalog enrichment pass, then update the warehouse")
    commands.add_parser("summary", help="print what the warehouse holds")
    sql = commands.add_parser("sql", help="run SQL against the published marts (read-only)")
    sql.add_argument("query")
    arguments = parser.parse_args(argv)

    # Dagster's beta/preview notices (single-run backfills of the poll's day partitions, code references) address
    # developers of this project, who pin and test the version, not the listener at the terminal; `dagster dev`
    # loads the definitions through load_from_defs_folder, which keeps them quiet too.
    import warnings

    from dagster import BetaWarning, PreviewWarning

    from spotify_assets.cli.runs import INTERRUPTED, CommandFailed
    from spotify_assets.lib.spotify_api.client import SpotifyError
    from spotify_assets.settings import SpotifySettings

    for category in (BetaWarning, PreviewWarning):
        warnings.filterwarnings("ignore", category=category)
    settings = SpotifySettings()
    from spotify_assets.lib.spotify_api.authorization import (
        CREDENTIALS_FILE_NAME,
        load_credentials_into_environment,
    )

    # Credentials stored by `spotify-assets auth` reach EnvVar through this process's environment.
    load_credentials_into_environment(settings.data_path / CREDENTIALS_FILE_NAME)
    _stop_on_interrupt()
    try:
        settings.timezone_name  # fail early, with the setting's name, on a bad time zone
        if arguments.command == "demo":
            from spotify_assets.cli.demo import run_demo

            run_demo(settings, arguments.plays, arguments.seed)
        elif arguments.command == "import":
            missing = [str(p) for p in arguments.paths if not p.exists()]
            if missing:
                raise CommandFailed(f"no such file or folder: {', '.join(missing)}")
            from spotify_assets.cli.import_exports import import_paths
            from spotify_assets.cli.summary import print_summary

            failure = import_paths(arguments.paths, settings).failure()
            print_summary(settings)
            if failure:
                raise failure
        elif arguments.command == "ui":
            from spotify_assets.cli.ui import run_ui

            run_ui(settings, arguments.host, arguments.port)
        elif arguments.command == "docs":
            from spotify_assets.cli.docs import serve_docs

            serve_docs(settings, arguments.host, arguments.port, generate=not arguments.no_generate,
                       serve=not arguments.no_serve)
        elif arguments.command == "healthcheck":
            from spotify_assets.cli.healthcheck import check_health

            check_health(arguments.host, arguments.port)
        elif arguments.command == "prepare":
            from spotify_assets.cli.prepare import prepare_dbt_manifest

            prepare_dbt_manifest(settings, force=True)
        elif arguments.command == "build":
            from spotify_assets.cli.import_exports import import_pending
            from spotify_assets.cli.runs import build_warehouse
            from spotify_assets.cli.summary import print_summary

            import_pending(settings)
            build_warehouse(settings, arguments.full_refresh)
            print_summary(settings)
        elif arguments.command == "sql":
            from spotify_assets.cli.sql import run_sql

            run_sql(settings, arguments.query)
        elif arguments.command == "auth":
            from spotify_assets.cli.auth import authorize

            authorize(settings, arguments.client_id, arguments.redirect_uri, arguments.print_only, arguments.timeout)
        elif arguments.command == "poll":
            from spotify_assets.cli.poll import poll
            from spotify_assets.cli.summary import print_summary

            poll(settings)
            print_summary(settings)
        elif arguments.command == "enrich":
            from spotify_assets.cli.enrich import enrich
            from spotify_assets.cli.summary import print_summary

            enrich(settings)
            print_summary(settings)
        elif arguments.command == "summary":
            from spotify_assets.cli.summary import print_summary

            print_summary(settings)
    except (CommandFailed, ValueError, SpotifyError, KeyboardInterrupt) as error:
        if INTERRUPTED.is_set() or isinstance(error, KeyboardInterrupt):
            print(f"spotify-assets {arguments.command}: interrupted; what finished is kept, the rest runs again "
                  "next time", file=sys.stderr)
            return 130
        print(f"spotify-assets {arguments.command}: {error}", file=sys.stderr)
        return 1
    return 0


def _stop_on_interrupt() -> None:
    """Ctrl-C (SIGINT) stops a command, also one started with SIGINT ignored (a script's background job inherits
    that): the run in progress ends as interrupted (Dagster's own handler, during a run, which SIGTERM also takes),
    and the command exits 130 with one line."""
    from spotify_assets.cli.runs import INTERRUPTED

    def interrupt(signum, frame) -> None:
        INTERRUPTED.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)


def run() -> None:
    """The `spotify-assets` command: main(), then an exit that skips tearing down the interpreter. By then every
    file and database is closed, and a command that ran dbt holds a heap of half a million objects (dbt's
    manifest, Dagster's definitions) that Python would free one by one: 1.6-1.8 s of every poll (bench/RESULTS.md).

    The last exit handler to run is the first one registered: this one, registered before anything else is
    imported. Every handler the command's libraries registered has run by then (they close log files and release the
    semaphores dbt's multiprocessing made, which the resource tracker would otherwise report as leaked); this one
    flushes the output and ends the process with the command's status."""
    import atexit
    import os

    status = {"code": 0}

    def end_now() -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (BrokenPipeError, ValueError):
                pass
        os._exit(status["code"])

    atexit.register(end_now)
    try:
        status["code"] = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`spotify-assets summary | head -3`): stop quietly, as command-line tools do, with
        # the status of a process ended by SIGPIPE. Output still buffered for the closed pipe is dropped.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status["code"] = 128 + 13
    sys.exit(status["code"])
