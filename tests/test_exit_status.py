"""Every command's exit status tells the truth, as a script or a cron job reads it: 2 and argparse's message for a usage
error, 1 and one line (never a traceback) for a failure, 0 only when the command did what it says, 130 for Ctrl-C.
Before, `spotify-assets bogus`, `sql` without a query, `demo --plays abc` and a crash all exited 0."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import cli_environment

CLI = str(Path(sys.executable).with_name("spotify-assets"))


def _run(arguments, environment, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *arguments], env=environment, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("arguments, message", [
    ([], "the following arguments are required: COMMAND"),
    (["bogus"], "invalid choice: 'bogus'"),
    (["demo", "--plays", "abc"], "argument --plays: not a whole number: 'abc'"),
    (["demo", "--plays", "0"], "argument --plays: must be 1 or more: '0'"),
    (["demo", "--seed", "x"], "argument --seed: invalid int value: 'x'"),
    (["demo", "--bogus"], "unrecognized arguments: --bogus"),
    (["import"], "the following arguments are required: PATH"),
    (["exports"], "the following arguments are required: ACTION"),
    (["exports", "remove"], "the following arguments are required: NAME"),
    (["exports", "bogus"], "invalid choice: 'bogus'"),
    (["build", "--fast"], "unrecognized arguments: --fast"),
    (["poll", "now"], "unrecognized arguments: now"),
    (["enrich", "lastfm"], "unrecognized arguments: lastfm"),
    (["summary", "all"], "unrecognized arguments: all"),
    (["sql"], "the following arguments are required: QUERY"),
    (["sql", ""], "argument QUERY: the query is empty"),
    (["sql", "  \n "], "argument QUERY: the query is empty"),
    (["sql", "--csv", "--json", "SELECT 1"], "argument --json: not allowed with argument --csv"),
    (["sql", "--max-rows", "-3", "SELECT 1"], "argument --max-rows: must be 1 or more"),
    (["config"], "the following arguments are required: ACTION"),
    (["config", "set", "timezone"], "the following arguments are required: VALUE"),
    (["config", "unset"], "the following arguments are required: KEY"),
    (["config", "set", "bogus", "1"], "argument KEY: no setting called 'bogus'; the settings are timezone, inbox"),
    (["config", "unset", "time"], "argument KEY: no setting called 'time' (did you mean timezone?)"),
    (["auth", "--timeout", "soon"], "argument --timeout: invalid float value: 'soon'"),
    (["ui", "--port", "x"], "argument --port: not a port number: 'x'"),
    (["ui", "--port", "70000"], "argument --port: not a port number (0 to 65535): '70000'"),
    (["docs", "--port", "-1"], "argument --port: not a port number (0 to 65535): '-1'"),
    (["healthcheck", "--port", "abc"], "argument --port: not a port number: 'abc'"),
    (["prepare", "now"], "unrecognized arguments: now"),
])
def test_a_usage_error_exits_2_with_argparses_message(arguments, message, tmp_path):
    completed = _run(arguments, cli_environment(tmp_path / "data"))
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.splitlines()[0].startswith("usage: spotify-assets")
    assert message in completed.stderr and "Traceback" not in completed.stderr
    assert completed.stdout == ""
    assert not (tmp_path / "data").exists()  # a usage error touches nothing


COMMANDS = ["demo", "import", "exports", "build", "poll", "enrich", "summary", "sql", "config", "listener", "auth", "ui",
            "docs", "healthcheck", "prepare"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_a_description_and_each_options_default(command, tmp_path):
    completed = _run([command, "--help"], cli_environment(tmp_path / "data") | {"COLUMNS": "250"})
    assert completed.returncode == 0
    lines = completed.stdout.splitlines()
    assert lines[0].startswith(f"usage: spotify-assets {command}") and len(lines[2]) > 20  # its one-line description
    options = [line.strip() for line in lines if line.startswith("  -")]
    assert options and all(len(option.split("  ", 1)[-1].strip()) > 10 for option in options), options  # each helped
    for option in options:
        if option.split()[0] in ("--port", "--host", "--plays", "--seed", "--redirect-uri", "--timeout", "--max-rows"):
            assert "(default: " in option, f"{command}: {option} names no default"


def test_the_top_level_help_lists_every_command_with_a_description(tmp_path):
    completed = _run(["--help"], cli_environment(tmp_path / "data") | {"COLUMNS": "250"})
    assert completed.returncode == 0
    listing = completed.stdout.split("commands:")[1]
    for command in COMMANDS:
        described = re.split(r"\n    (?=\S)", listing.split(f"\n    {command}")[1])[0]  # its line, or the next
        assert len(" ".join(described.split())) > 20, command
    assert "one module each" not in completed.stdout


def _one_line_failure(completed: subprocess.CompletedProcess, command: str, *fragments: str) -> None:
    assert completed.returncode == 1, completed.stdout + completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"spotify-assets {command}: "), completed.stderr
    assert "Traceback" not in completed.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# What each command is given when the failure lies in its surroundings (the data folder, a setting).
ANY_ARGUMENTS = {"demo": ["--plays", "50"], "import": ["notes.txt"], "exports": ["list"], "sql": ["SELECT 1"],
                 "config": ["show"], "listener": ["list"], "auth": ["--client-id", "x", "--timeout", "1"], "docs": ["--no-serve"]}


@pytest.mark.parametrize("command", COMMANDS)
def test_a_data_folder_that_is_a_file_fails_every_command_in_one_line(command, tmp_path):
    """`SPOTIFY_DATA_DIR=<a plain file> spotify-assets import notes.txt` printed a 21-line NotADirectoryError traceback
    and exited 0."""
    plain = tmp_path / "plain"
    plain.write_text("not a folder")
    environment = cli_environment(plain)
    completed = _run([command, *ANY_ARGUMENTS.get(command, [])], environment)
    _one_line_failure(completed, command, f"SPOTIFY_DATA_DIR={plain} is a file, not a folder")


@pytest.mark.parametrize("command, setup, expected", [
    (command, lambda data, environment: environment.update(SPOTIFY_TIMEZONE="Mars/Olympus"),
     "SPOTIFY_TIMEZONE='Mars/Olympus': not an IANA time zone name") for command in ("summary", "import", "build", "poll")
] + [
    ("summary", lambda data, environment: (data / "settings.toml").write_text('timezone = "Mars/Olympus"\n'),
     "timezone = 'Mars/Olympus' (settings.toml): not an IANA time zone name"),
    ("import", lambda data, environment: (data / "settings.toml").write_text("timezone = [unclosed\n"),
     "settings.toml is not valid TOML"),
    ("build", lambda data, environment: (data / "settings.toml").write_text("lastfm_lookups_per_run = -4\n"),
     "lastfm_lookups_per_run = '-4' (settings.toml): must be more than 0"),
])
def test_a_bad_setting_fails_naming_it_and_where_it_came_from(command, setup, expected, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    environment = cli_environment(data)
    setup(data, environment)
    completed = _run([command, *ANY_ARGUMENTS.get(command, [])], environment)
    _one_line_failure(completed, command, expected)


def test_a_crash_nobody_foresaw_is_one_line_and_its_traceback_goes_to_a_log(tmp_path):
    """A data folder inside a plain file: creating the Dagster instance's folder fails deep inside, where no command
    expects it (the traceback cannot go to the data folder, so it goes to the temporary folder)."""
    plain = tmp_path / "plain"
    plain.write_text("not a folder")
    environment = cli_environment(plain / "data") | {"TMPDIR": str(tmp_path)}
    completed = _run(["build"], environment)
    _one_line_failure(completed, "build", "failed: NotADirectoryError", "traceback in ")
    log = Path(completed.stderr.split("traceback in ")[1].rstrip(")\n"))
    assert log.parent == tmp_path and "Traceback (most recent call last)" in log.read_text()


@pytest.mark.parametrize("arguments, fragment", [
    (["import", "/nonexistent/my_spotify_data.zip"], "no such file or folder: /nonexistent/my_spotify_data.zip"),
    (["sql", "SELECT 1"], "marts.duckdb does not exist yet"),
    (["poll"], "live polling is off: set SPOTIFY_CLIENT_ID"),
    (["enrich"], "nothing to enrich with: set LASTFM_API_KEY"),
    (["auth"], "give --client-id (or set SPOTIFY_CLIENT_ID)"),
    (["healthcheck", "--port", "9"], "the Dagster webserver on 127.0.0.1:9 does not answer"),
    (["docs", "--no-generate", "--port", "0"], "the docs site was not generated"),
    (["config", "set", "timezone", "Mars/Olympus"], "timezone 'Mars/Olympus': not an IANA time zone name"),
    (["config", "set", "spotify_refresh_token", "x"], "comes from the authorization: run `spotify-assets auth`"),
    (["exports", "remove", "my_spotify_data.zip"], "no landed export is called 'my_spotify_data.zip'"),
])
def test_a_failure_on_an_empty_data_folder_exits_1_in_one_line(arguments, fragment, tmp_path):
    _one_line_failure(_run(arguments, cli_environment(tmp_path / "data")), arguments[0], fragment)


@pytest.mark.slow
def test_sql_errors_and_closed_pipes_on_the_demo(demo_data_dir):
    environment = cli_environment(demo_data_dir)
    _one_line_failure(_run(["sql", "SELEC 1"], environment), "sql", "Parser Error")
    _one_line_failure(_run(["sql", "CREATE TABLE x (a INT)"], environment), "sql", "read-only")
    piped = subprocess.run(["bash", "-c", f"set -o pipefail; '{CLI}' sql --csv 'SELECT * FROM fct_plays' | head -1"],
                           env=environment, capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and piped.stderr == "" and piped.stdout.startswith("play_id,")


@pytest.mark.slow
def test_an_import_whose_reader_goes_away_finishes_its_work_and_exits_0(small_history, tmp_path):
    """`spotify-assets import A B | head -1`: the pipe closes after the first line; the import still lands, imports and
    builds both exports, says nothing about the pipe, and exits 0."""
    data = tmp_path / "data"
    environment = cli_environment(data)
    exports = " ".join(f"'{export.path}'" for export in small_history.exports[:2])
    piped = subprocess.run(["bash", "-c", f"set -o pipefail; '{CLI}' import {exports} | head -1"], env=environment,
                           capture_output=True, text=True, timeout=600)
    assert piped.returncode == 0 and piped.stderr == "", piped.stderr
    assert piped.stdout.startswith("importing ")
    assert (data / "marts.duckdb").exists()
    again = _run(["import", *[str(export.path) for export in small_history.exports[:2]]], environment)
    assert again.returncode == 0 and again.stdout.count("already imported") == 2


@pytest.mark.slow
def test_ctrl_c_from_the_terminal_prints_one_line_and_no_child_traceback(small_history, tmp_path):
    """The terminal sends SIGINT to the whole process group: Dagster's helper processes (the compute log tail and its
    orphan watcher) printed two KeyboardInterrupt tracebacks."""
    from conftest import raw_counts

    from spotify_assets.lib.warehouse import warehouse_connection
    from spotify_assets.settings import SpotifySettings

    data = tmp_path / "data"
    environment = cli_environment(data)
    command = subprocess.Popen([CLI, "import", *[str(export.path) for export in small_history.exports]],
                               env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    for line in command.stdout:
        if line.startswith("building the warehouse"):
            break
    time.sleep(3)  # dbt is at work, its helper processes with it
    os.killpg(command.pid, signal.SIGINT)
    _, stderr = command.communicate(timeout=60)
    assert command.returncode == 130
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == (
        "spotify-assets import: interrupted; what finished is kept, the rest runs again next time")
    # The next command does what was left, once.
    rerun = _run(["import", *[str(export.path) for export in small_history.exports]], environment, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.count("already imported") == len(small_history.exports)
    assert "building the warehouse" in rerun.stdout
    with warehouse_connection(SpotifySettings(data_dir=str(data)), read_only=True) as connection:
        assert sum(raw_counts(connection).values()) == sum(sum(e.raw_rows.values()) for e in small_history.exports)
