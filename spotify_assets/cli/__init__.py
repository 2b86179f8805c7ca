"""`spotify-assets`: keep your whole Spotify listening history in a DuckDB warehouse you own.

Every command works in the Dagster instance that the UI and its daemon share, so what a command did shows in the UI
exactly like a run the daemon started. Exit status: 0 when the command did what it says, 1 when something failed
(one line says what), 2 for a usage error, 130 when interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130  # and 2, argparse's, for a usage error
DEMO_PLAYS = 20_000
DEMO_SEED = 42


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spotify-assets", description=__doc__, formatter_class=_Formatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")

    def command(name: str, summary: str, details: str = "") -> argparse.ArgumentParser:
        return commands.add_parser(name, help=summary, description=summary + (f"\n\n{details}" if details else ""),
                                   formatter_class=_Formatter)

    demo = command("demo", "import a synthetic listening history, build everything, check it against its truth",
                   "No network and no credentials: the history is generated, its genres come from a simulated Last.fm "
                   "on 127.0.0.1, and with --live its recently played tracks from a simulated Spotify.")
    demo.add_argument("--plays", type=_positive_int, default=DEMO_PLAYS, metavar="N",
                      help="true plays to generate (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=DEMO_SEED, metavar="S",
                      help="seed of the generator: the same seed, the same history (default: %(default)s)")
    demo.add_argument("--live", action="store_true",
                      help="then poll a simulated Spotify on 127.0.0.1 a few times, as the schedule polls yours")

    importer = command("import", "import Spotify exports (zip, folder or JSON file) and update the warehouse",
                       "An export whose content was imported before (the same bytes, under any name) is not imported "
                       "again.")
    importer.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="an export: zip, folder or JSON file")
    importer.add_argument("--force", action="store_true", help="import again even when the same content was imported")
    importer.add_argument("--listener", metavar="NAME", type=_listener_name, default=None,
                       help="whose exports these are (default: the listener `default`)")

    exports = command("exports", "list the exports that have landed, or remove one")
    exports_commands = exports.add_subparsers(dest="exports_command", required=True, metavar="ACTION", title="actions")
    exports_commands.add_parser("list", help="every landed export: name, content hash, when, what it added",
                                description="Every landed export: name, content hash, when, what it added.")
    remove = exports_commands.add_parser(
        "remove", help="remove an export (landing, raw rows); its plays leave the marts with the build that follows",
        description="Remove an export from landing and the raw tables, then rebuild the warehouse without it.")
    remove.add_argument("name", metavar="NAME", help="the export's name or the start of its content hash")
    remove.add_argument("--no-build", action="store_true", help="leave the rebuild to the next build or the daemon")

    catalog = command("catalog", "import a catalog file of tracks with audio features (CSV or Parquet)")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True, metavar="ACTION", title="actions")
    catalog_import = catalog_commands.add_parser(
        "import", help="land a catalog file and read its tracks and features; bad rows are quarantined and counted",
        description="Land a CSV or Parquet of tracks with audio features (such as the public Kaggle Spotify tracks "
        "datasets), read it into raw.catalog_file_tracks, then update the warehouse.")
    catalog_import.add_argument("file", type=Path, metavar="FILE", help="a .csv, .tsv, .csv.gz or .parquet file")

    build = command("build", "build, test and publish the warehouse from what has landed",
                    "Exports that landed but were never imported are imported first.")
    build.add_argument("--full-refresh", action="store_true", help="rebuild every model from the raw tables")
    build.add_argument("--listener", metavar="NAME", type=_listener_name, default=None,
                       help="whose summary to print after the build (every listener's marts are built) (default: the listener `default`)")

    command("poll", "poll recently played once (what the schedule does every 30 minutes), then update the warehouse")
    command("enrich", "one Last.fm, Spotify catalog and Spotify's-view (top lists, playlists) pass, then update "
            "the warehouse")
    summary = command("summary", "print what the warehouse holds: the exports, the totals, the top lists, the heatmap")
    summary.add_argument("--listener", metavar="NAME", type=_listener_name, default=None,
                         help="whose figures (default: the listener `default`)")

    sql = command("sql", "run SQL against the published marts (read-only)",
                  "Several statements run in order; the last one's rows are printed, every row when the output is "
                  "not a terminal. For an interactive prompt: .venv/bin/duckdb -readonly data/marts.duckdb")
    sql.add_argument("query", type=_query, metavar="QUERY", help="SQL; the marts' tables and macros answer by name")
    sql.add_argument("--listener", metavar="NAME", type=_listener_name, default=None,
                     help="whose published marts (default: the listener `default`)")
    output = sql.add_mutually_exclusive_group()
    output.add_argument("--csv", action="store_true", help="print CSV with a header row")
    output.add_argument("--json", action="store_true", help="print one JSON object per row (JSON Lines)")
    output.add_argument("--max-rows", type=_positive_int, default=None, metavar="N",
                        help="rows to show as a table (default: 40 on a terminal, every row otherwise)")

    config = command("config", "show or change the settings kept in the data folder",
                     "Settings other than secrets live in $SPOTIFY_DATA_DIR/settings.toml; an environment variable "
                     "overrides the file for one command. Credentials stay in spotify.env (`spotify-assets auth`).")
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="ACTION", title="actions")
    config_commands.add_parser("show", help="every setting, its value and where it came from",
                               description="Every setting, its value and where it came from (default, file, "
                               "environment).")
    setter = config_commands.add_parser("set", help="keep a setting in the settings file",
                                        description="Keep a setting in the settings file.")
    setter.add_argument("key", metavar="KEY", type=_setting_key,
                        help="a setting's name, as `config show` lists it (e.g. timezone)")
    setter.add_argument("value", metavar="VALUE")
    unsetter = config_commands.add_parser("unset", help="take a setting out of the settings file (back to its default)",
                                          description="Take a setting out of the settings file.")
    unsetter.add_argument("key", metavar="KEY", type=_setting_key, help="a setting's name")

    listener = command("listener", "add, list or remove the listeners this installation serves",
                       "The single-listener setup is the listener `default` (the data folder's own files). Each other "
                       "listener has a table in settings.toml, a folder listeners/NAME/ (credentials, inbox, landing, "
                       "report) and its published marts in marts/NAME.duckdb.")
    listener_commands = listener.add_subparsers(dest="listener_command", required=True, metavar="ACTION",
                                                title="actions")
    adder = listener_commands.add_parser("add", help="add a listener: its settings, inbox and credentials file",
                                         description="Add a listener: its settings, its inbox, its credentials file "
                                         "(0600).")
    adder.add_argument("name", metavar="NAME", type=_listener_name, help="1 to 32 of a-z, 0-9, _ and -")
    adder.add_argument("--timezone", metavar="ZONE", help="its IANA time zone (default: UTC)")
    adder.add_argument("--inbox", metavar="DIR", help="where it drops exports (default: listeners/NAME/inbox)")
    adder.add_argument("--share-with-friends", action="store_true",
                       help="opt in to the friends marts (taste overlap, the week, artists to try)")
    listener_commands.add_parser("list", help="every listener: time zone, authorization, friends, inbox, marts",
                                 description="Every listener: time zone, authorization, friends, inbox, marts.")
    remover = listener_commands.add_parser(
        "remove", help="remove a listener with its landing, raw rows and marts (asks first)",
        description="Remove a listener with its landing, raw rows, marts and report, and nobody else's. Asks first.")
    remover.add_argument("name", metavar="NAME", type=_listener_name, help="the listener's name")
    remover.add_argument("--yes", action="store_true", help="do not ask")

    auth = command("auth", "authorize your own Spotify app once (recently played, top lists, playlists); the "
                   "credentials are kept in the data folder (0600)")
    auth.add_argument("--listener", metavar="NAME", type=_listener_name, default=None,
                      help="whose account (default: the listener `default`)")
    auth.add_argument("--client-id", metavar="ID", help="your app's Client ID (default: $SPOTIFY_CLIENT_ID)")
    auth.add_argument("--redirect-uri", default="http://127.0.0.1:8888/callback", metavar="URI",
                      help="as registered in your app's settings (default: %(default)s)")
    auth.add_argument("--print-only", action="store_true",
                      help="print `export` lines for your shell instead of storing the credentials")
    auth.add_argument("--timeout", type=float, default=300, metavar="SECONDS",
                      help="how long to wait for Spotify's redirect (default: %(default)s)")

    ui = command("ui", "start the Dagster UI and its daemon (sensors, schedules, automation); Ctrl-C stops both")
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    ui.add_argument("--port", type=_port, default=3000, help="port to listen on (default: %(default)s)")
    ui.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"], default="warning",
                    help="what Dagster's services print here (default: %(default)s; info shows every sensor tick)")

    docs = command("docs", "generate the dbt docs site and serve it until Ctrl-C")
    docs.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    docs.add_argument("--port", type=_port, default=8080, help="port to listen on, 0 for any free one "
                      "(default: %(default)s)")
    docs.add_argument("--no-generate", action="store_true", help="serve the site generated last")
    docs.add_argument("--no-serve", action="store_true", help="generate the site, then exit")

    health = command("healthcheck", "exit 0 when the UI's webserver answers and its daemon is healthy")
    health.add_argument("--host", default="127.0.0.1", help="the UI's address (default: %(default)s)")
    health.add_argument("--port", type=_port, default=3000, help="the UI's port (default: %(default)s)")

    command("prepare", "build dbt's manifest, which describes the warehouse's models (`make install` runs it)")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {text!r}")
    return value


def _query(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the query is empty")
    return text


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (0 to 65535): {text!r}")
    return value


def _listener_name(text: str) -> str:
    from spotify_assets.lib.listeners import check_name

    try:
        return check_name(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _setting_key(text: str) -> str:
    from spotify_assets.lib.configuration import setting_named

    try:
        setting_named(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the command; returns the exit status (argparse exits 2 on a usage error)."""
    arguments = build_parser().parse_args(argv)
    from spotify_assets.cli.failures import CommandFailed, interrupted
    from spotify_assets.cli.terminal import record_crash, warn
    from spotify_assets.lib import configuration

    data_path = None
    try:
        # A data folder that is a file, a setting that does not parse: said at once, naming the setting and where its
        # value came from, before the command's libraries load.
        data_path = configuration.data_path()
        configuration.check(data_path)
        # Credentials stored by `spotify-assets auth` reach Dagster's EnvVar through this process's environment.
        configuration.load_credentials_into_environment(data_path / configuration.CREDENTIALS_FILE_NAME)
        _quiet_developer_notices()
        from spotify_assets.settings import SpotifySettings

        settings = SpotifySettings()
        if arguments.command != "auth" and getattr(arguments, "listener", None):
            settings = settings.for_listener(arguments.listener)  # an unknown name: one line, exit 1
        _COMMANDS[arguments.command](settings, arguments)
    except KeyboardInterrupt:
        warn(f"spotify-assets {arguments.command}: interrupted; what finished is kept, the rest runs again next time")
        return EXIT_INTERRUPTED
    except Exception as error:
        from spotify_assets.lib.spotify_api.client import SpotifyError

        if interrupted():
            warn(f"spotify-assets {arguments.command}: interrupted; what finished is kept, the rest runs again next "
                 "time")
            return EXIT_INTERRUPTED
        if isinstance(error, (CommandFailed, ValueError, SpotifyError)):
            warn(f"spotify-assets {arguments.command}: {error}")
            return EXIT_FAILED
        log = record_crash(data_path)  # nobody foresaw it: one line here, the traceback in the log
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "no message"
        warn(f"spotify-assets {arguments.command}: failed: {type(error).__name__}: {reason} (traceback in {log})")
        return EXIT_FAILED
    return EXIT_OK


def _quiet_developer_notices() -> None:
    """Dagster's beta and preview notices (single-run backfills of the poll's day partitions, code references)
    address the developers of this project, who pin and test the version, not the listener at the terminal;
    `dagster dev` loads the definitions through load_from_defs_folder, which keeps them quiet too."""
    import warnings

    from dagster import BetaWarning, PreviewWarning

    for category in (BetaWarning, PreviewWarning):
        warnings.filterwarnings("ignore", category=category)


# ------------------------------------------------------------------------------------------------ the commands


def _demo(settings, arguments) -> None:
    from spotify_assets.cli.demo import run_demo

    run_demo(settings, arguments.plays, arguments.seed, live=arguments.live)


def _import(settings, arguments) -> None:
    from spotify_assets.cli.failures import CommandFailed
    from spotify_assets.cli.import_exports import import_paths
    from spotify_assets.cli.summary import print_summary

    missing = [str(path) for path in arguments.paths if not path.exists()]
    if missing:
        raise CommandFailed(f"no such file or folder: {', '.join(missing)}")
    outcome = import_paths(arguments.paths, settings, force=arguments.force)
    if outcome.changed:
        print_summary(settings)
    if outcome.failure():
        raise outcome.failure()


def _exports(settings, arguments) -> None:
    from spotify_assets.cli.exports import list_exports, remove_export

    if arguments.exports_command == "list":
        list_exports(settings)
    else:
        remove_export(settings, arguments.name, build=not arguments.no_build)


def _catalog(settings, arguments) -> None:
    from spotify_assets.cli.catalog import import_catalog_file

    import_catalog_file(settings, arguments.file)


def _build(settings, arguments) -> None:
    from spotify_assets.cli.import_exports import import_pending
    from spotify_assets.cli.runs import build_warehouse
    from spotify_assets.cli.summary import print_summary

    failure = import_pending(settings).failure()
    build_warehouse(settings, arguments.full_refresh)
    print_summary(settings)
    if failure:
        raise failure


def _poll(settings, arguments) -> None:
    from spotify_assets.cli.poll import poll
    from spotify_assets.cli.summary import print_summary

    poll(settings)
    print_summary(settings)


def _enrich(settings, arguments) -> None:
    from spotify_assets.cli.enrich import enrich
    from spotify_assets.cli.summary import print_summary

    enrich(settings)
    print_summary(settings)


def _summary(settings, arguments) -> None:
    from spotify_assets.cli.summary import print_summary

    print_summary(settings)


def _sql(settings, arguments) -> None:
    from spotify_assets.cli.sql import run_sql

    run_sql(settings, arguments.query, "csv" if arguments.csv else "json" if arguments.json else "table",
            arguments.max_rows)


def _config(settings, arguments) -> None:
    from spotify_assets.cli.config import set_setting, show_settings, unset_setting

    if arguments.config_command == "show":
        show_settings(settings)
    elif arguments.config_command == "set":
        set_setting(settings, arguments.key, arguments.value)
    else:
        unset_setting(settings, arguments.key)


def _listener(settings, arguments) -> None:
    from spotify_assets.cli.listeners import (
        add_listener,
        list_listeners,
        remove_listener,
    )

    if arguments.listener_command == "add":
        add_listener(settings, arguments.name, arguments.timezone, arguments.inbox, arguments.share_with_friends)
    elif arguments.listener_command == "list":
        list_listeners(settings)
    else:
        remove_listener(settings, arguments.name, arguments.yes)


def _auth(settings, arguments) -> None:
    from spotify_assets.cli.auth import authorize

    authorize(settings, arguments.client_id, arguments.redirect_uri, arguments.print_only, arguments.timeout,
              listener_name=arguments.listener)


def _ui(settings, arguments) -> None:
    from spotify_assets.cli.ui import run_ui

    run_ui(settings, arguments.host, arguments.port, arguments.log_level)


def _docs(settings, arguments) -> None:
    from spotify_assets.cli.docs import serve_docs

    serve_docs(settings, arguments.host, arguments.port, generate=not arguments.no_generate,
               serve=not arguments.no_serve)


def _healthcheck(settings, arguments) -> None:
    from spotify_assets.cli.healthcheck import check_health

    check_health(arguments.host, arguments.port)


def _prepare(settings, arguments) -> None:
    from spotify_assets.cli.prepare import prepare_dbt_manifest

    prepare_dbt_manifest(settings, force=True)


_COMMANDS = {"demo": _demo, "import": _import, "exports": _exports, "catalog": _catalog, "build": _build, "poll": _poll,
             "enrich": _enrich, "summary": _summary, "sql": _sql, "config": _config, "listener": _listener, "auth": _auth,
             "ui": _ui, "docs": _docs, "healthcheck": _healthcheck, "prepare": _prepare}


def _stop_on_interrupt() -> None:
    """Ctrl-C (SIGINT) stops a command, also one started with SIGINT ignored (a script's background job inherits
    that): the run in progress ends as interrupted (Dagster's own handler, during a run, which SIGTERM also takes),
    and the command exits 130 with one line."""
    from spotify_assets.cli.failures import INTERRUPTED

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
    flushes the output and ends the process with the command's status, whatever ended main() (argparse ends a usage
    error with SystemExit 2)."""
    import atexit
    import os

    from spotify_assets.cli import terminal
    from spotify_assets.cli.failures import watch_interrupts

    status = {"code": EXIT_FAILED}  # until main() says otherwise: a status of 0 is only ever main()'s

    def end_now() -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass
        os._exit(status["code"])

    atexit.register(end_now)
    terminal.install()
    watch_interrupts()
    try:
        _stop_on_interrupt()
        status["code"] = main()
    except SystemExit as ending:  # argparse: 2 for a usage error, 0 after --help
        status["code"] = ending.code if isinstance(ending.code, int) else (EXIT_OK if ending.code is None
                                                                           else EXIT_FAILED)
    except KeyboardInterrupt:  # before main() could catch it (while Python imported the command's libraries)
        terminal.warn("spotify-assets: interrupted")
        status["code"] = EXIT_INTERRUPTED
    sys.exit(status["code"])
