"""`spotify-assets`: the commands a listener types. Every run goes through the shared Dagster instance,
so what a command did shows in the UI exactly like a sensor- or schedule-started run.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from spotify_assets.settings import SpotifySettings
from spotify_assets.lib.spotify_api.client import SpotifyError

DEMO_PLAYS = 20_000
DEMO_SEED = 42
# Runs log in full to the Dagster instance (the UI shows them); the terminal gets one line per warning (run_job)
# and the command's own one-line reason when something failed.
_SILENT_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
# Dagster's own note that a step was skipped after another failed: the command reports that failure instead.
_FAILED_UPSTREAM = "Dependencies for step"
_INTERRUPTED = threading.Event()  # set by Ctrl-C (SIGINT) or SIGTERM: the command stops, exit status 130


class CommandFailed(Exception):
    """A one-line reason for a non-zero exit."""


def _definitions():
    from spotify_assets.definitions import defs  # imported late: it loads Dagster and the dbt manifest

    return defs


def prepare_dbt_manifest(settings: SpotifySettings, force: bool = False) -> None:
    """Build dbt's manifest, which the code location describes its assets with (`make install` does it), and
    build it again whenever the dbt project's files have changed since (a pull, an edited model)."""
    import os
    import subprocess

    from spotify_assets.lib.transformations import parsed_manifests
    from spotify_assets.defs.transformations.project import dbt_project

    stamp = dbt_project.manifest_path.with_name("manifest.fingerprint")
    fingerprint = parsed_manifests.fingerprint(Path(dbt_project.project_dir), {})
    current = dbt_project.manifest_path.exists() and stamp.exists() and stamp.read_text() == fingerprint
    if force or not current:
        dbt = Path(sys.executable).with_name("dbt")
        completed = subprocess.run([str(dbt), "parse", "--quiet"], cwd=dbt_project.project_dir,
                                   capture_output=True, text=True, env={**os.environ, **settings.dbt_environment()})
        if completed.returncode != 0:
            raise CommandFailed(f"dbt parse failed: {completed.stdout[-500:]}{completed.stderr[-500:]}")
        stamp.write_text(fingerprint)


@contextmanager
def _output_to_log(settings: SpotifySettings) -> Iterator[None]:
    """dbt's progress lines go to $SPOTIFY_DATA_DIR/logs/runs.log; the run itself is in the UI."""
    log_path = settings.data_path / "logs" / "runs.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as log, redirect_stdout(log):
        yield


def run_job(settings: SpotifySettings, job_name: str, run_config: dict | None = None, tags: dict | None = None,
            **options):
    """Run one of the code location's jobs in the shared instance, as the daemon would, in this process; dbt's progress
    lines go to logs/runs.log, and each warning the run logged is printed as one line. Runs whose process died are
    failed first (their warehouse slot would block this one forever), and a run that has to wait for the warehouse
    says which run it waits for."""
    import logging
    import uuid

    from spotify_assets.instance.home import get_instance
    from spotify_assets.instance.recovery import fail_dead_runs, run_tags

    instance = get_instance(settings)
    for run_id in fail_dead_runs(instance):
        print(f"warning: run {run_id} had died holding the warehouse (its process is gone); marked failed",
              file=sys.stderr, flush=True)
    run_id = str(uuid.uuid4())
    with _output_to_log(settings), _announce_waiting(instance, run_id):
        result = _definitions().resolve_job_def(job_name).execute_in_process(
            instance=instance, run_config={**_SILENT_CONSOLE, **(run_config or {})}, raise_on_error=False,
            run_id=run_id, tags={**run_tags(), **(tags or {})}, **options)
    if any(event.is_step_failure and event.step_failure_data.error
           and event.step_failure_data.error.cls_name == "DagsterExecutionInterruptedError" for event in result.all_events):
        _INTERRUPTED.set()  # Ctrl-C or SIGTERM during the run: stop here, as the run did
        raise KeyboardInterrupt
    for record in instance.all_logs(result.run_id):
        if (record.dagster_event is None and record.level >= logging.WARNING and record.user_message
                and not record.user_message.startswith(_FAILED_UPSTREAM)):  # the failure itself is reported
            print(f"warning: {record.user_message.strip().splitlines()[0]}", file=sys.stderr, flush=True)
    return result


@contextmanager
def _announce_waiting(instance, run_id: str) -> Iterator[None]:
    """While the run waits for the warehouse pool, say once (on stderr) which run holds it."""
    import threading

    from spotify_assets.instance.recovery import is_waiting, slot_holders
    from spotify_assets.lib.warehouse import WAREHOUSE_POOL

    done = threading.Event()
    stderr = sys.stderr  # the real one: stdout is redirected to the log meanwhile

    def watch() -> None:
        while not done.wait(2.0):
            try:
                if not is_waiting(instance, WAREHOUSE_POOL, run_id):
                    continue
                holders = [holder for holder, _ in slot_holders(instance, WAREHOUSE_POOL) if holder != run_id]
            except Exception:  # a busy instance database: look again at the next turn
                continue
            if holders:
                holder = instance.get_run_by_id(holders[0])
                name = f"{holder.job_name}, " if holder else ""
                print(f"waiting for the warehouse: run {holders[0]} ({name}see the Dagster UI) is writing it; this "
                      "one starts when it ends", file=stderr, flush=True)
                return

    watcher = threading.Thread(target=watch, name="warehouse-wait-notice", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


@dataclass
class ImportOutcome:
    """What became of the paths given to `spotify-assets import`: one failing never stops the next."""

    without_history: list[str] = field(default_factory=list)  # landed, but no plays in them
    failed: list[str] = field(default_factory=list)  # one line each: what went wrong

    def failure(self) -> CommandFailed | None:
        problems = list(self.failed)
        if self.without_history:
            problems.append(f"{', '.join(self.without_history)}: no Spotify listening history found (kept in landing, "
                            "no plays added); give the export's zip, its folder, or its StreamingHistory/endsong "
                            "JSON files")
        return CommandFailed("; ".join(problems)) if problems else None


def import_paths(paths: list[Path], settings: SpotifySettings) -> ImportOutcome:
    """Land each export, import it as its partition, then build the warehouse from everything that landed. A path
    that cannot be landed or imported is reported and the next one goes on."""
    from spotify_assets.defs.exports.assets import EXPORT_FILES_KEY
    from spotify_assets.lib.exports.landing import receive_export
    from spotify_assets.instance.home import get_instance
    from spotify_assets.defs.partitions import spotify_export_partitions

    prepare_dbt_manifest(settings)
    instance = get_instance(settings)
    import_pending(settings)
    outcome, imported = ImportOutcome(), 0
    for path in paths:
        try:
            landed = receive_export(path, settings.exports_landing_path)
        except OSError as error:  # not a file or folder, unreadable, a disk that is full: said, and the next goes on
            outcome.failed.append(str(error) if not error.strerror else f"{path}: {error.strerror}")
            continue
        if not instance.has_dynamic_partition(spotify_export_partitions.name, landed.export_hash):
            instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
        print(f"importing {path.name} (export {landed.export_hash[:12]})", flush=True)
        result = run_job(settings, "import_spotify_export_job", partition_key=landed.export_hash,
                         tags={"spotify/export": landed.name})
        if not result.success:
            outcome.failed.append(f"import of {path.name} failed ({_failure_reason(result)}); see run {result.run_id} "
                                  "in the Dagster UI")
            continue
        metadata = next(event.materialization.metadata for event in result.get_asset_materialization_events()
                        if event.asset_key == EXPORT_FILES_KEY)
        if metadata["history_files"].value or metadata["files_unreadable"].value or metadata["files_unrecognised"].value:
            imported += 1
        else:
            outcome.without_history.append(path.name)
    if imported:
        build_warehouse(settings)
    return outcome


def import_pending(settings: SpotifySettings) -> None:
    """Exports in landing that were never imported (an import that failed or was killed) or were imported by an older
    parser (a newer one reads more of them) are imported now."""
    from spotify_assets.defs.exports.assets import EXPORT_FILES_KEY, outdated_imports
    from spotify_assets.lib.exports.landing import landed_exports
    from spotify_assets.instance.home import get_instance
    from spotify_assets.defs.partitions import spotify_export_partitions

    instance = get_instance(settings)
    outdated = set(outdated_imports(instance))
    imported = instance.get_materialized_partitions(EXPORT_FILES_KEY)
    for landed in landed_exports(settings.exports_landing_path):
        if landed.export_hash in imported and landed.export_hash not in outdated:
            continue
        if not instance.has_dynamic_partition(spotify_export_partitions.name, landed.export_hash):
            instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
        why = "this version reads more of it" if landed.export_hash in outdated else "it had not been imported"
        print(f"importing {landed.name} (export {landed.export_hash[:12]}): {why}", flush=True)
        result = run_job(settings, "import_spotify_export_job", partition_key=landed.export_hash,
                         tags={"spotify/export": landed.name})
        if not result.success:
            raise CommandFailed(f"import of {landed.name} failed ({_failure_reason(result)}); see run {result.run_id} "
                                "in the Dagster UI")


def _warehouse_was_built(settings: SpotifySettings, instance, job) -> bool:
    """Every asset of the warehouse job has been built at least once (and the published file exists): only
    then can a build limited to what lies downstream of one source find everything else in place."""
    keys = list(job.asset_layer.executable_asset_keys)
    records = instance.get_latest_materialization_events(keys)
    return settings.published_marts_path.exists() and all(records.get(key) is not None for key in keys)


def build_warehouse(settings: SpotifySettings, full_refresh: bool = False, job_name: str = "build_warehouse_job") -> None:
    """The warehouse job (every model and test), or another job over part of it (update_after_poll_job)."""
    prepare_dbt_manifest(settings)
    print(f"building the warehouse (dbt build{' --full-refresh' if full_refresh else ''})", flush=True)
    job = _definitions().resolve_job_def(job_name)
    # A run config given here replaces the job's own (update_after_poll_job's scoped key tests): start from it.
    job_build_config = (job.run_config or {}).get("ops", {}).get("warehouse_models", {}).get("config", {})
    result = run_job(settings, job_name, {"ops": {"warehouse_models": {"config": {**job_build_config,
                                                                                "full_refresh": full_refresh}}}})
    if not result.success:
        raise CommandFailed(f"the warehouse build failed; see run {result.run_id} in the Dagster UI")


def update_after_poll(settings: SpotifySettings) -> None:
    """What lies downstream of the polled plays, or everything while the warehouse has never been built whole
    (a first poll into a new data directory) or was built with other settings or models (a full rebuild)."""
    from spotify_assets.instance.home import get_instance
    from spotify_assets.lib.transformations import build_state

    job = _definitions().resolve_job_def("build_warehouse_job")
    stale = build_state.stale_reason(settings, build_state.current_fingerprint(settings))
    partial = _warehouse_was_built(settings, get_instance(settings), job) and not stale
    build_warehouse(settings, job_name="update_after_poll_job" if partial else "build_warehouse_job")


def print_summary(settings: SpotifySettings) -> None:
    from spotify_assets.defs.reports.assets import REPORT_FILE_NAME
    from spotify_assets.cli.summary import print_ingest_report, print_results

    if not print_ingest_report(settings):
        return
    print_results(settings)
    report = settings.reports_path / REPORT_FILE_NAME
    if report.exists():
        print(f"\nthe listening report (open it in a browser): {report.as_uri()}")


def serve_docs(settings: SpotifySettings, host: str, port: int, generate: bool, serve: bool) -> None:
    """Generate the dbt docs site through the instance (in the warehouse pool), then serve it until Ctrl-C."""
    from spotify_assets.lib.dbt_docs.serve import docs_server

    if generate:
        prepare_dbt_manifest(settings)
        print("generating the dbt docs site (dbt docs generate)", flush=True)
        result = run_job(settings, "dbt_docs_job")
        if not result.success:
            raise CommandFailed(f"generating the docs failed: {_failure_reason(result)}")
        print(f"dbt docs site: {settings.dbt_docs_path / 'index.html'}", flush=True)
    if not serve:
        return
    try:
        server = docs_server(settings.dbt_docs_path, host, port)
    except (FileNotFoundError, OSError) as error:
        raise CommandFailed(str(error)) from None
    print(f"dbt docs on http://{host}:{server.server_address[1]} (Ctrl-C stops)", flush=True)
    # Ctrl-C (SIGINT) and `kill` or `docker stop` (SIGTERM) stop the server, also when the command was started
    # with them ignored (a script's background job inherits SIGINT ignored, and Python then leaves it so).
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, signal.default_int_handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def run_demo(settings: SpotifySettings, plays: int, seed: int) -> None:
    from spotify_assets.lib.exports.landing import content_hash, landed_exports
    from spotify_assets.lib.synthetic.exports import SyntheticHistory

    inbox = settings.inbox_path
    print(f"writing a synthetic history of {plays:,} plays (seed {seed}) into {inbox}", flush=True)
    history = SyntheticHistory.generate(plays=plays, seed=seed)
    history.write_exports(inbox)
    history.write_ground_truth(settings.data_path / "synthetic" / "ground_truth.csv.gz")
    demo_exports = sorted(export.path for export in history.exports)
    import_paths(demo_exports, settings)
    print_summary(settings)
    demo_hashes = {content_hash(path) for path in demo_exports}
    others = sorted({landed.name for landed in landed_exports(settings.exports_landing_path)
                     if landed.export_hash not in demo_hashes})
    if others:
        print(f"\noracle: not compared, the warehouse also holds other exports ({', '.join(others)}); "
              "run the demo in a new data directory (SPOTIFY_DATA_DIR) to check it against its ground truth")
        return
    verify_against_truth(history, settings)


def verify_against_truth(history, settings: SpotifySettings) -> None:
    """The demo checks itself: the published marts against figures computed from the true plays."""
    from spotify_assets.lib.publishing.publish import connect_published
    from spotify_assets.lib.synthetic.oracle import Oracle, compare_with_marts

    connection = connect_published(settings.published_marts_path)
    try:
        compared, mismatches = compare_with_marts(Oracle(history, settings.timezone_name), connection)
    finally:
        connection.close()
    if mismatches:
        print("\n".join(mismatches[:20]), file=sys.stderr)
        raise CommandFailed(f"{len(mismatches)} of {compared} figures differ from the synthetic ground truth")
    print(f"\noracle: all {compared:,} figures (totals, 168 heatmap cells, every calendar day, months, "
          "top 10 lists, hour drilldowns) match the synthetic ground truth")


def run_ui(settings: SpotifySettings, host: str, port: int) -> None:
    """Replace this process with `dagster dev` (webserver + daemon) on the project's instance."""
    import os

    from spotify_assets.instance.home import PROJECT_ROOT, dagster_home, get_instance

    home = dagster_home(settings)
    prepare_dbt_manifest(settings)
    get_instance(settings)  # its tables exist before the webserver and the daemon open it at once
    # The code server runs from the project root: hand it absolute paths so it sees the same data.
    os.environ["SPOTIFY_DATA_DIR"] = str(settings.data_path)
    # Everything dagster dev starts (code server, daemon, `dbt parse` in prepare_if_dev) finds this
    # environment's tools even when the virtualenv is not activated (the Dockerfile, `make ui`).
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ["SPOTIFY_INBOX"] = str(settings.inbox_path)
    # A shell or supervisor that started us in the background may have left SIGINT ignored; dagster dev
    # inherits that and then ignores SIGTERM too, so it could never be stopped. Restore the defaults.
    import signal

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)
    # From the instance's own folder: started in the project folder, dagster dev would warn that the dagster.yaml
    # there (the seed of DAGSTER_HOME's copy) is not used.
    os.chdir(home)
    dagster = str(Path(sys.executable).with_name("dagster"))
    os.execv(dagster, [dagster, "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", host, "-p", str(port)])


DAEMON_HEALTH = "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }"


def check_health(host: str, port: int) -> None:
    """The webserver answers and every daemon loop the instance requires has a fresh heartbeat."""
    import httpx

    try:
        answer = httpx.post(f"http://{host}:{port}/graphql", json={"query": DAEMON_HEALTH}, timeout=10).json()
        statuses = answer["data"]["instance"]["daemonHealth"]["allDaemonStatuses"]
    except (httpx.HTTPError, KeyError, TypeError, ValueError) as error:
        raise CommandFailed(f"the Dagster webserver on {host}:{port} does not answer ({type(error).__name__})") from None
    unhealthy = sorted(status["daemonType"] for status in statuses if status["required"] and not status["healthy"])
    if unhealthy:
        raise CommandFailed(f"daemon loops without a fresh heartbeat: {', '.join(unhealthy)}")
    print(f"healthy: webserver on {host}:{port}, daemon loops {', '.join(sorted(s['daemonType'] for s in statuses))}")


def _failure_reason(result) -> str:
    """The innermost error message of a failed in-process run: what the listener can act on."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            return error.message.strip().splitlines()[-1]
    return "see the run in the Dagster UI"


def poll(settings: SpotifySettings) -> None:
    """One recently-played poll, the day partitions it touched, then the warehouse (as the schedule does)."""
    from spotify_assets.defs.recently_played.assets import GAP_CHECK, RESPONSES_KEY
    from spotify_assets.defs.recently_played.sensors import range_tags
    from spotify_assets.defs.spotify_api.resources import credentials_configured

    if not credentials_configured():
        raise CommandFailed("live polling needs SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET (empty for PKCE apps) and "
                            "SPOTIFY_REFRESH_TOKEN; `spotify-assets auth` sets them up")
    prepare_dbt_manifest(settings)
    result = run_job(settings, "poll_recently_played_job")
    if not result.success:
        raise CommandFailed(f"the poll failed: {_failure_reason(result)}")
    metadata = next(e.materialization.metadata for e in result.get_asset_materialization_events()
                    if e.asset_key == RESPONSES_KEY)
    days = list(metadata["touched_days"].value)
    print(f"poll: {metadata['plays_received'].value} new plays, newest {metadata['newest_play'].value}", flush=True)
    for check in result.get_asset_check_evaluations():
        if check.check_name == GAP_CHECK and not check.passed:
            print(f"warning: {check.description}", file=sys.stderr)
    if days:
        items = run_job(settings, "recently_played_items_job", tags=range_tags(days))
        if not items.success:
            raise CommandFailed(f"loading the polled plays failed: {_failure_reason(items)}")
        update_after_poll(settings)
    else:
        print("nothing new to build", flush=True)


def authorize(settings: SpotifySettings, client_id: str | None, redirect_uri: str, print_only: bool,
              timeout_seconds: float, open_url=None) -> None:
    """The one-time authorization-code flow; stores the credentials (0600) or prints them to export."""
    import os
    import webbrowser

    from spotify_assets.lib.spotify_api.authorization import (
        CREDENTIALS_FILE_NAME,
        authorization_request,
        exchange_code,
        wait_for_code,
        write_credentials_file,
    )

    client_id = client_id or os.environ.get("SPOTIFY_CLIENT_ID")
    if not client_id:
        raise CommandFailed("give --client-id (or set SPOTIFY_CLIENT_ID): the Client ID of your app at "
                            "https://developer.spotify.com/dashboard")
    client_secret = os.environ.get("SPOTIFY_CLIENT_SECRET") or None  # unset or empty: a PKCE app
    accounts = os.environ.get("SPOTIFY_ACCOUNTS_BASE_URL") or "https://accounts.spotify.com"
    request = authorization_request(client_id, redirect_uri, accounts, pkce=client_secret is None)
    print(f"Open this address, sign in and approve ({'PKCE' if client_secret is None else 'client secret'} flow):\n\n"
          f"  {request.url}\n\nWaiting for Spotify to redirect to {redirect_uri} ...", flush=True)
    (open_url or webbrowser.open)(request.url)
    code = wait_for_code(request, timeout_seconds)
    refresh_token = exchange_code(request, code, client_id, client_secret, accounts)
    values = {"SPOTIFY_CLIENT_ID": client_id, "SPOTIFY_CLIENT_SECRET": client_secret or "",
              "SPOTIFY_REFRESH_TOKEN": refresh_token}
    if print_only:
        print("\nAuthorized. Add these lines to your environment:\n")
        print("\n".join(f"export {name}='{value}'" for name, value in values.items()))
        return
    path = settings.data_path / CREDENTIALS_FILE_NAME
    write_credentials_file(path, values)
    print(f"\nAuthorized. Credentials stored in {path} (readable by you only); spotify-assets commands load it, "
          "and the schedule starts polling under `spotify-assets ui`.")


def enrich(settings: SpotifySettings) -> None:
    """One enrichment pass, Last.fm (LASTFM_API_KEY) and the Spotify catalog (Spotify credentials), then the
    warehouse and the published marts."""
    from spotify_assets.defs.lastfm.resources import lastfm_configured
    from spotify_assets.defs.spotify_api.resources import credentials_configured

    jobs = [("lastfm_enrichment_job", "Last.fm")] if lastfm_configured() else []
    jobs += [("catalog_enrichment_job", "Spotify catalog")] if credentials_configured() else []
    if not jobs:
        raise CommandFailed("nothing to enrich with: set LASTFM_API_KEY (tags and genres) and/or the Spotify "
                            "credentials (`spotify-assets auth`, for ISRCs and credited artists)")
    prepare_dbt_manifest(settings)
    for job_name, source in jobs:
        result = run_job(settings, job_name)
        if not result.success:
            raise CommandFailed(f"the {source} enrichment failed: {_failure_reason(result)}")
        for event in result.get_asset_materialization_events():
            metadata = event.materialization.metadata
            if "looked_up" in metadata:
                print(f"{source}: {event.asset_key.path[-1]}: {metadata['looked_up'].value} looked up "
                      f"({metadata['found'].value} found), {metadata['still_to_look_up'].value} left for later runs",
                      flush=True)
    build_warehouse(settings)


def run_sql(settings: SpotifySettings, query: str) -> None:
    from spotify_assets.lib.publishing.publish import connect_published

    if not settings.published_marts_path.exists():
        raise CommandFailed(f"{settings.published_marts_path} does not exist yet: run `spotify-assets demo` or `build`")
    connection = connect_published(settings.published_marts_path)
    try:
        relation = connection.sql(query)
        if relation is not None:
            relation.show(max_width=200, max_rows=100)
    except Exception as error:  # a user's SQL error: one line, not a traceback
        raise CommandFailed(str(error).splitlines()[0]) from None
    finally:
        connection.close()


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

    # Dagster's beta/preview notices address developers of this project, not the listener at the terminal.
    import warnings

    from dagster import BetaWarning, PreviewWarning, SupersessionWarning

    for category in (BetaWarning, PreviewWarning, SupersessionWarning):
        warnings.filterwarnings("ignore", category=category)
    settings = SpotifySettings()
    from spotify_assets.lib.spotify_api.authorization import CREDENTIALS_FILE_NAME, load_credentials_into_environment

    # Credentials stored by `spotify-assets auth` reach EnvVar through this process's environment.
    load_credentials_into_environment(settings.data_path / CREDENTIALS_FILE_NAME)
    _stop_on_interrupt()
    try:
        settings.timezone_name  # fail early, with the setting's name, on a bad time zone
        if arguments.command == "demo":
            run_demo(settings, arguments.plays, arguments.seed)
        elif arguments.command == "import":
            missing = [str(p) for p in arguments.paths if not p.exists()]
            if missing:
                raise CommandFailed(f"no such file or folder: {', '.join(missing)}")
            failure = import_paths(arguments.paths, settings).failure()
            print_summary(settings)
            if failure:
                raise failure
        elif arguments.command == "ui":
            run_ui(settings, arguments.host, arguments.port)
        elif arguments.command == "docs":
            serve_docs(settings, arguments.host, arguments.port, generate=not arguments.no_generate,
                       serve=not arguments.no_serve)
        elif arguments.command == "healthcheck":
            check_health(arguments.host, arguments.port)
        elif arguments.command == "prepare":
            prepare_dbt_manifest(settings, force=True)
        elif arguments.command == "build":
            import_pending(settings)
            build_warehouse(settings, arguments.full_refresh)
            print_summary(settings)
        elif arguments.command == "sql":
            run_sql(settings, arguments.query)
        elif arguments.command == "auth":
            authorize(settings, arguments.client_id, arguments.redirect_uri, arguments.print_only, arguments.timeout)
        elif arguments.command == "poll":
            poll(settings)
            print_summary(settings)
        elif arguments.command == "enrich":
            enrich(settings)
            print_summary(settings)
        elif arguments.command == "summary":
            print_summary(settings)
    except (CommandFailed, ValueError, SpotifyError, KeyboardInterrupt) as error:
        if _INTERRUPTED.is_set() or isinstance(error, KeyboardInterrupt):
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
    def interrupt(signum, frame) -> None:
        _INTERRUPTED.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)


def run() -> None:
    """The `spotify-assets` command: main(), then an exit that skips tearing down the interpreter. By then every
    file and database is closed, and a command that ran dbt holds a heap of half a million objects (dbt's
    manifest, Dagster's definitions) that Python would free one by one: 1.6-1.8 s of every poll (bench/RESULTS.md).
    The exit handlers still run (they take no time): they close the log files and release the semaphores dbt's
    multiprocessing made, which the resource tracker would otherwise report as leaked."""
    import atexit
    import os

    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`spotify-assets summary | head -3`): stop quietly, as command-line tools do, with
        # the status of a process ended by SIGPIPE. Output still buffered for the closed pipe is dropped.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 128 + 13
    atexit._run_exitfuncs()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
