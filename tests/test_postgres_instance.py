"""deploy/postgres/dagster.yaml against a real PostgreSQL server that the test starts on 127.0.0.1: the command
line's runs land in PostgreSQL, and a launched run waits in the queue until the daemon runs it."""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest
from conftest import PROJECT_ROOT, cli_environment, free_port

pytestmark = pytest.mark.slow
POSTGRES_HINT = ("PostgreSQL server binaries not found: install Debian's `postgresql` (`sudo apt-get install "
                 "postgresql`, as .ci/run does) or set SPOTIFY_TEST_POSTGRES_BIN to the folder holding initdb")


def _as_server_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; Debian's package brings the user `postgres`.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres_url():
    binaries = os.environ.get("SPOTIFY_TEST_POSTGRES_BIN") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"))), None)
    if not binaries or not Path(binaries, "initdb").exists():
        pytest.skip(POSTGRES_HINT)
    # Not under pytest's temporary folder: its parents are private to this user, and the server runs as another.
    folder = Path(tempfile.mkdtemp(prefix="spotify-assets-postgres-"))
    data = folder / "cluster"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    port = free_port()
    subprocess.run(_as_server_user([f"{binaries}/initdb", "-D", str(data), "-U", "dagster", "--auth=trust", "-E", "UTF8"]),
                   check=True, capture_output=True)
    subprocess.run(_as_server_user([f"{binaries}/pg_ctl", "-D", str(data), "-w", "-l", str(folder / "server.log"), "-o",
                                    f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start"]),
                   check=True, capture_output=True)
    try:
        subprocess.run([f"{binaries}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "dagster", "dagster"], check=True)
        yield f"postgresql+psycopg2://dagster@127.0.0.1:{port}/dagster"
    finally:
        subprocess.run(_as_server_user([f"{binaries}/pg_ctl", "-D", str(data), "-m", "fast", "stop"]), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _succeed(command: list[str], **options) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, **options)
    assert completed.returncode == 0, completed.stderr[-3000:]


def _runs(url: str) -> list[tuple[str, str]]:
    with psycopg2.connect(url.replace("+psycopg2", "")) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT pipeline_name, status FROM runs ORDER BY create_timestamp")
        return cursor.fetchall()


def _status_of(job: str, url: str) -> str:
    return [status for name, status in _runs(url) if name == job][-1]


def test_runs_live_in_postgres_and_launched_runs_wait_in_the_queue(postgres_url, small_history, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "deploy" / "postgres" / "dagster.yaml", home / "dagster.yaml")
    environment = cli_environment(tmp_path / "data") | {"DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_URL": postgres_url}
    bin_dir = Path(sys.executable).parent
    export = small_history.exports[0].path
    _succeed([str(bin_dir / "spotify-assets"), "import", str(export)], env=environment, timeout=600)
    assert ("import_spotify_export_job", "SUCCESS") in _runs(postgres_url)
    assert ("build_warehouse_job", "SUCCESS") in _runs(postgres_url)
    assert not list(home.glob("**/*.db"))  # nothing fell back to SQLite

    # A launched run is queued (the run coordinator), and the daemon drains the queue.
    _succeed([str(bin_dir / "dagster"), "job", "launch", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-j", "dbt_docs_job"],
             env=environment, cwd=PROJECT_ROOT, timeout=300)
    assert _status_of("dbt_docs_job", postgres_url) == "QUEUED"
    daemon = subprocess.Popen([str(bin_dir / "dagster-daemon"), "run", "-w", str(PROJECT_ROOT / "workspace.yaml")],
                              env=environment | {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}, cwd=PROJECT_ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and _status_of("dbt_docs_job", postgres_url) not in ("SUCCESS", "FAILURE"):
            time.sleep(3)
    finally:
        os.killpg(daemon.pid, 15)
        daemon.wait(timeout=60)
        # The code server the daemon started would otherwise outlive it (it is named by this instance's folder).
        subprocess.run(["pkill", "-f", str(home)], capture_output=True)
    assert _status_of("dbt_docs_job", postgres_url) == "SUCCESS"
    assert (tmp_path / "data" / "dbt_docs" / "index.html").exists()
