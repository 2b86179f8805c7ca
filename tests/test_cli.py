"""The `spotify-assets` commands, run as a listener runs them: a subprocess on a fresh data dir."""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli_environment
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

CLI = str(Path(sys.executable).with_name("spotify-assets"))


def _run(*arguments, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *arguments], env=cli_environment(data_dir), capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_import_runs_in_the_shared_instance_and_prints_the_report(small_history, tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    exports = [str(small_history.exports[0].path), str(small_history.exports[3].path)]  # a zip and a folder
    completed = _run("import", *exports, data_dir=data_dir)
    assert completed.returncode == 0, completed.stderr
    # The command's fast exit still runs the exit handlers: nothing reports leaked semaphores.
    assert "resource_tracker" not in completed.stderr, completed.stderr
    zip_rows = sum(small_history.exports[0].raw_rows.values())
    assert f"{zip_rows:,} records accepted" in completed.stdout
    assert f"{small_history.exports[3].raw_rows['standard_music_streams']:,} records accepted" in completed.stdout

    monkeypatch.setenv("DAGSTER_HOME", str(data_dir / "dagster_home"))  # dagster.yaml stores runs under it
    instance = DagsterInstance.get()
    runs = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.SUCCESS]))
    assert sorted(r.job_name for r in runs) == ["build_warehouse_job", "import_spotify_export_job", "import_spotify_export_job"]
    assert len(instance.get_dynamic_partitions("spotify_exports")) == 2
    instance.dispose()


def test_a_missing_path_fails_with_one_line(tmp_path):
    completed = _run("import", str(tmp_path / "nope.zip"), data_dir=tmp_path / "data")
    assert completed.returncode == 1
    assert completed.stderr.strip() == f"spotify-assets import: no such file or folder: {tmp_path / 'nope.zip'}"


def test_a_bad_time_zone_fails_with_the_setting_name(tmp_path):
    environment = cli_environment(tmp_path) | {"SPOTIFY_TIMEZONE": "Mars/Olympus"}
    completed = subprocess.run([CLI, "summary"], env=environment, capture_output=True, text=True)
    assert completed.returncode == 1 and "SPOTIFY_TIMEZONE='Mars/Olympus'" in completed.stderr


def test_dbt_sends_no_usage_events(demo_data_dir):
    """dbt's anonymous usage tracking is off (dbt_project.yml flags): the warehouse makes no calls home."""
    log = (demo_data_dir / "dbt_target" / "build" / "dbt.log").read_text()
    assert "'send_anonymous_usage_stats': 'False'" in log
    assert "Sending event" not in log


def test_summary_reads_the_warehouse_without_loading_the_asset_definitions(demo_data_dir):
    """`summary` imported the report asset's module for its file name, and with it Dagster's dbt integration and dbt:
    5-7 s for a command that only reads (1.4-1.9 s without, 1M plays, bench/RESULTS.md)."""
    probe = ("import sys\nfrom spotify_assets.cli import main\nstatus = main(['summary'])\n"
             "print(status, sorted(name for name in ('dbt', 'dagster_dbt', 'spotify_assets.definitions') "
             "if name in sys.modules))")
    completed = subprocess.run([sys.executable, "-c", probe], env=cli_environment(demo_data_dir),
                               capture_output=True, text=True, timeout=120)
    assert "the listening report (open it in a browser)" in completed.stdout, completed.stderr
    assert completed.stdout.splitlines()[-1] == "0 []"


def _one_line_answer(completed: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in completed.stderr and "Error:" not in completed.stderr.replace("spotify-assets", "")
    assert len(completed.stderr.strip().splitlines()) <= 1, completed.stderr


@pytest.mark.slow
@pytest.mark.parametrize("arguments, code, answer", [
    (["summary"], 0, "nothing imported yet: `spotify-assets import PATH`"),
    (["sql", "SELECT 1"], 1, "marts.duckdb does not exist yet: run `spotify-assets demo` or `build`"),
    (["poll"], 1, "live polling is off: set SPOTIFY_CLIENT_ID"),
    (["enrich"], 1, "nothing to enrich with: set LASTFM_API_KEY"),
    (["auth"], 1, "give --client-id (or set SPOTIFY_CLIENT_ID)"),
    (["healthcheck", "--port", "9"], 1, "the Dagster webserver on 127.0.0.1:9 does not answer"),
    (["docs", "--no-generate", "--port", "0"], 1, "the docs site was not generated"),
    (["import", "/nonexistent/my_spotify_data.zip"], 1, "no such file or folder: /nonexistent/my_spotify_data.zip"),
    (["build"], 0, "no music plays yet"),
    (["docs", "--no-serve"], 0, "dbt docs site: "),
    (["prepare"], 0, ""),
])
def test_every_command_on_an_empty_data_directory_answers_in_one_line(arguments, code, answer, tmp_path):
    completed = _run(*arguments, data_dir=tmp_path / "data")
    assert completed.returncode == code, completed.stdout + completed.stderr
    _one_line_answer(completed)
    assert answer in (completed.stderr if code else completed.stdout)


@pytest.mark.slow
def test_a_poll_of_a_new_account_with_no_plays_yet_answers_in_one_line(tmp_path):
    from spotify_assets.lib.simulated.spotify import SimulatedSpotify

    with SimulatedSpotify() as fake:
        environment = cli_environment(tmp_path / "data") | {
            "SPOTIFY_CLIENT_ID": "fake-client-id", "SPOTIFY_CLIENT_SECRET": "fake-client-secret",
            "SPOTIFY_REFRESH_TOKEN": "fake-refresh-token", "SPOTIFY_API_BASE_URL": fake.base_url,
            "SPOTIFY_ACCOUNTS_BASE_URL": fake.base_url}
        completed = subprocess.run([CLI, "poll"], env=environment, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    _one_line_answer(completed)
    assert "poll: no plays yet (Spotify lists none for this account)" in completed.stdout
    assert "nothing imported yet" in completed.stdout


@pytest.mark.slow
def test_a_poll_that_finds_nothing_new_says_since_when(tmp_path):
    """A poll without new plays said "0 new plays, newest none"."""
    import time

    from spotify_assets.lib.simulated.spotify import SimulatedSpotify, track_object

    with SimulatedSpotify() as fake:
        fake.add_play(int(time.time() * 1000) - 600_000, track_object("t1", "A Song", ["An Artist"], "An Album",
                                                                       200_000, "QZ0000000001"))
        environment = cli_environment(tmp_path / "data") | {
            "SPOTIFY_CLIENT_ID": "fake-client-id", "SPOTIFY_CLIENT_SECRET": "fake-client-secret",
            "SPOTIFY_REFRESH_TOKEN": "fake-refresh-token", "SPOTIFY_API_BASE_URL": fake.base_url,
            "SPOTIFY_ACCOUNTS_BASE_URL": fake.base_url}
        first = subprocess.run([CLI, "poll"], env=environment, capture_output=True, text=True, timeout=600)
        second = subprocess.run([CLI, "poll"], env=environment, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0 and "poll: 1 new play, the newest played " in first.stdout, first.stderr
    newest = first.stdout.split("the newest played ")[1].splitlines()[0]
    assert second.returncode == 0 and f"poll: no new plays since {newest}" in second.stdout, second.stderr
    assert "building the warehouse" not in second.stdout  # nothing new: no run after the poll


def test_output_cut_short_by_its_reader_ends_quietly(tmp_path):
    """`spotify-assets summary | head -3` ended in a BrokenPipeError traceback; a reader that goes away is no failure
    of the work."""
    completed = subprocess.run(["bash", "-c", f"'{CLI}' summary | true; exit ${{PIPESTATUS[0]}}"],
                               env=cli_environment(tmp_path / "data"), capture_output=True, text=True, timeout=120)
    assert completed.stderr == "" and completed.returncode == 0


@pytest.mark.slow
def test_a_path_without_history_is_a_failed_import_named_once(small_history, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list: milk")
    data_dir = tmp_path / "data"
    completed = _run("import", str(notes), data_dir=data_dir)
    assert completed.returncode == 1
    assert completed.stderr.strip() == (
        "spotify-assets import: notes.txt: no Spotify listening history found (kept in landing, no plays added); "
        "give the export's zip, its folder, or its StreamingHistory/endsong JSON files")
    # With a real export beside it: the export lands and is built, notes.txt is named and not listed as an export.
    completed = _run("import", str(notes), str(small_history.exports[0].path), data_dir=data_dir)
    assert completed.returncode == 1 and "notes.txt: no Spotify listening history found" in completed.stderr
    exports = completed.stdout.split("exports imported:")[1].split("raw records by table:")[0]
    assert small_history.exports[0].path.name in exports and "notes.txt" not in exports.split("not listening history")[0]
    assert "not listening history (kept in landing, no plays): notes.txt" in exports
    assert "music plays" in completed.stdout  # the warehouse was built from the export


@pytest.mark.slow
def test_an_unreadable_file_is_named_once_without_a_quarantine_count(tmp_path):
    """Messages named a single file twice (`x.json: x.json: parsed, ...`) and counted 0 records quarantined in a
    file that could not be read at all."""
    broken = tmp_path / "endsong_0.json"
    broken.write_text('[{"ts": "2020-01-01T00:00:00Z", "ms_played": 1000')  # not even one complete record
    completed = _run("import", str(broken), data_dir=tmp_path / "data")
    lines = [line for line in completed.stderr.splitlines() if "endsong_0.json" in line]
    assert lines and all(line.count("endsong_0.json") == 1 for line in lines), completed.stderr
    assert "records quarantined" not in completed.stderr


@pytest.mark.slow
def test_an_export_that_cannot_be_imported_never_stops_the_next(small_history, tmp_path):
    import os

    pipe = tmp_path / "my_spotify_data.zip"
    os.mkfifo(pipe)  # a download still streaming into a named pipe, say: reading it would never end
    completed = _run("import", str(pipe), str(small_history.exports[0].path), data_dir=tmp_path / "data")
    assert completed.returncode == 1
    assert completed.stderr.strip().splitlines()[-1] == (
        f"spotify-assets import: {pipe}: not a file or a folder (a pipe or a device?)")
    assert "Traceback" not in completed.stderr
    assert f"{sum(small_history.exports[0].raw_rows.values()):,} records accepted" in completed.stdout


@pytest.mark.slow
def test_two_imports_at_once_both_land_and_a_summary_meanwhile_answers(small_history, tmp_path):
    """Two imports at once failed one time in three (a DuckDB lock, or the new instance's tables created twice),
    and `summary` during an import failed half the time with a raw traceback."""
    import time

    from conftest import raw_counts

    from spotify_assets.lib.warehouse import warehouse_connection
    from spotify_assets.settings import SpotifySettings

    data_dir = tmp_path / "data"
    environment = cli_environment(data_dir)
    first, second = small_history.exports[0], small_history.exports[1]
    imports = [subprocess.Popen([CLI, "import", str(export.path)], env=environment, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for export in (first, second)]
    summaries = []
    time.sleep(8)  # both are at work by now
    while any(process.poll() is None for process in imports) and len(summaries) < 3:
        summaries.append(subprocess.run([CLI, "summary"], env=environment, capture_output=True, text=True, timeout=300))
    outputs = [process.communicate(timeout=600) for process in imports]
    for process, (_, stderr) in zip(imports, outputs):
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr
    for summary in summaries:
        assert summary.returncode == 0 and "Traceback" not in summary.stderr, summary.stderr
    with warehouse_connection(SpotifySettings(data_dir=str(data_dir)), read_only=True) as connection:
        counts = raw_counts(connection)
    expected = first.raw_rows + second.raw_rows
    assert counts == {name: expected.get(name, 0) for name in counts}


def _reader_holding(path: Path, seconds: float) -> subprocess.Popen:
    """Another process that has the DuckDB file open read-only for `seconds` (as `summary` or a SQL client may)."""
    reader = subprocess.Popen([sys.executable, "-c", f"""
import duckdb, time
connection = duckdb.connect({str(path)!r}, read_only=True)
print("reading", flush=True)
time.sleep({seconds})
"""], stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "reading"
    return reader


def test_a_writer_waits_for_a_reader_in_another_process_instead_of_failing(tmp_path):
    """`summary` (or any SQL client) reading the warehouse for a moment made the import that took the pool then
    fail on DuckDB's file lock; the writer now waits for the reader to let go."""
    import time

    import duckdb

    from spotify_assets.lib.warehouse import warehouse_connection
    from spotify_assets.settings import SpotifySettings

    settings = SpotifySettings(data_dir=str(tmp_path / "data"), timezone="UTC")
    with warehouse_connection(settings) as connection:
        connection.execute("CREATE TABLE plays AS SELECT 1 AS play")
    reader = _reader_holding(settings.warehouse_path, seconds=3)
    try:
        with pytest.raises(duckdb.IOException, match="lock"):  # what DuckDB does on its own
            duckdb.connect(str(settings.warehouse_path)).close()
        started = time.monotonic()
        with warehouse_connection(settings) as connection:
            connection.execute("INSERT INTO plays VALUES (2)")
            assert connection.execute("SELECT count(*) FROM plays").fetchone() == (2,)
        assert time.monotonic() - started > 0.5  # it did wait for the reader
    finally:
        reader.wait(timeout=30)


@pytest.mark.slow
def test_dbt_waits_for_a_reader_in_another_process_too(tmp_path):
    """dbt opens the warehouse itself: with a reader holding the file (as `summary` may), it retries the connection
    (dbt_project/profiles.yml) instead of failing the build."""
    import json

    from conftest import PROJECT_ROOT

    from spotify_assets.lib.warehouse import warehouse_connection
    from spotify_assets.settings import SpotifySettings

    settings = SpotifySettings(data_dir=str(tmp_path / "data"), timezone="UTC")
    with warehouse_connection(settings) as connection:
        connection.execute("CREATE TABLE plays AS SELECT 1 AS play")
    reader = _reader_holding(settings.warehouse_path, seconds=6)
    try:
        project = PROJECT_ROOT / "dbt_project"
        shown = subprocess.run([str(Path(sys.executable).with_name("dbt")), "show", "--inline", "select count(*) as n from plays",
                                "--project-dir", str(project), "--profiles-dir", str(project),
                                "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "target"),
                                "--vars", json.dumps(settings.dbt_vars())], capture_output=True, text=True, timeout=300)
        assert shown.returncode == 0, shown.stdout[-2000:]
        assert reader.poll() is not None  # it connected only once the reader had let go
    finally:
        reader.wait(timeout=30)


@pytest.mark.slow
def test_an_export_landed_but_never_imported_is_shown_pending_and_build_imports_it(small_history, tmp_path):
    """An import that failed (or was killed after landing) left its export out of the warehouse even after build."""
    from spotify_assets.lib.exports.landing import receive_export

    data_dir = tmp_path / "data"
    assert _run("import", str(small_history.exports[0].path), data_dir=data_dir).returncode == 0
    pending = receive_export(small_history.exports[1].path, data_dir / "landing" / "exports")  # landed, then killed
    summary = _run("summary", data_dir=data_dir)
    assert f"landed, not imported yet: {pending.name}" in summary.stdout
    built = _run("build", data_dir=data_dir)
    assert built.returncode == 0, built.stderr
    assert f"importing {pending.name} (export {pending.export_hash[:12]}): it had landed but was not imported" \
        in built.stdout
    assert "landed, not imported yet" not in built.stdout
    assert f"{sum(small_history.exports[1].raw_rows.values()):,} records accepted" in built.stdout


@pytest.mark.slow
def test_a_pending_export_that_keeps_failing_never_stops_the_next(small_history, tmp_path):
    """An export whose import fails was retried first by every later command, which then never imported the export
    it was given. Now each command tries it again (as the daemon would, IMPORT_ATTEMPTS runs in all), names it, and
    imports and builds the other anyway."""
    from spotify_assets.defs.exports.sensors import IMPORT_ATTEMPTS
    from spotify_assets.lib.exports.landing import receive_export

    data_dir = tmp_path / "data"
    broken = receive_export(small_history.exports[0].path, data_dir / "landing" / "exports")
    broken.payload.unlink()  # its bytes are gone: every import of it fails
    clean = small_history.exports[1].path
    first = _run("import", str(clean), data_dir=data_dir)
    assert first.returncode == 1 and f"the import of {broken.name} failed" in first.stderr
    assert "Traceback" not in first.stderr and len(first.stderr.strip().splitlines()) == 1
    assert f"{sum(small_history.exports[1].raw_rows.values()):,} records accepted" in first.stdout
    assert "music plays" in first.stdout  # built and published without it
    for attempt in range(2, IMPORT_ATTEMPTS + 1):
        again = _run("import", str(clean), data_dir=data_dir)
        assert again.returncode == 1 and f"attempt {attempt} (the last one failed)" in again.stdout
        assert "already imported" in again.stdout
    settled = _run("import", str(clean), data_dir=data_dir)  # given up: the daemon tries it no more, nor do commands
    assert settled.returncode == 0, settled.stderr
    assert "already imported" in settled.stdout and "importing" not in settled.stdout
    listed = _run("exports", "list", data_dir=data_dir)
    assert f"not imported: failed {IMPORT_ATTEMPTS} times" in listed.stdout


@pytest.mark.slow
def test_settings_are_remembered_and_the_environment_overrides_them_for_one_command(demo_data_dir, tmp_path):
    """After `SPOTIFY_TIMEZONE=Europe/Berlin make demo`, a plain `build` switched the warehouse back to UTC and rebuilt
    every model. A zone kept with `config set` holds for every command and for the daemon."""
    import shutil

    from conftest import DEMO_ZONE

    from spotify_assets.defs.warehouse_updates import WarehouseUpdate, warehouse_update
    from spotify_assets.instance.home import open_instance
    from spotify_assets.settings import SpotifySettings

    demo_data_dir = shutil.copytree(demo_data_dir, tmp_path / "data")  # the other tests' copy stays as it was
    environment = cli_environment(demo_data_dir)  # no SPOTIFY_TIMEZONE: the demo was made with it set
    kept = subprocess.run([CLI, "config", "set", "timezone", DEMO_ZONE], env=environment, capture_output=True,
                          text=True)
    assert kept.returncode == 0 and f"timezone = {DEMO_ZONE}: kept in {demo_data_dir / 'settings.toml'}" in kept.stdout
    shown = subprocess.run([CLI, "config", "show"], env=environment | {"LASTFM_REQUESTS_PER_SECOND": "2"},
                           capture_output=True, text=True).stdout
    assert any(line.split() == ["timezone", DEMO_ZONE, "settings", "file"] for line in shown.splitlines()), shown
    assert any(line.split()[:3] == ["lastfm_requests_per_second", "2", "environment"] for line in shown.splitlines())
    assert any(line.split() == ["catalog_lookups_per_run", "200", "default"] for line in shown.splitlines())
    assert any(line.split() == ["Dagster", "instance", str(demo_data_dir / "dagster_home"), "environment",
                                "(DAGSTER_HOME)"] for line in shown.splitlines()), shown
    built = subprocess.run([CLI, "build"], env=environment, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    assert "rebuilding every model" not in built.stderr  # the zone it was built in holds
    assert f"listening history ({DEMO_ZONE})" in built.stdout
    # The daemon's rule reads the same file: once the zone is unset, it asks for a rebuild, saying how to keep one.
    unset = subprocess.run([CLI, "config", "unset", "timezone"], env=environment, capture_output=True, text=True)
    assert unset.returncode == 0 and "now UTC (default)" in unset.stdout
    assert "The next build (`spotify-assets build`, or the daemon's next one) rebuilds every model" in unset.stdout
    summary = subprocess.run([CLI, "summary"], env=environment, capture_output=True, text=True, timeout=120).stdout
    assert f"(the time zone setting is UTC now; these figures stay in {DEMO_ZONE} until the next build" in summary
    instance = open_instance(demo_data_dir / "dagster_home")
    try:
        update = warehouse_update(instance, SpotifySettings(data_dir=str(demo_data_dir)))
    finally:
        instance.dispose()
    assert isinstance(update, WarehouseUpdate) and update.job_name == "build_warehouse_job"
    assert update.reason == (f"the time zone changed from {DEMO_ZONE} to UTC (default) since the warehouse was built; "
                             f"`spotify-assets config set timezone {DEMO_ZONE}` keeps a zone for every command")
