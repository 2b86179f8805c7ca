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


def test_the_docker_deployment_runs_its_queue_and_launcher_on_postgres(postgres_url, tmp_path, monkeypatch):
    """deploy/docker: the instance loads on a real PostgreSQL with Docker's run launcher and the per-listener queue
    limit, and docker-compose.yaml starts what dagster.yaml and workspace.yaml name (no Docker engine runs here: the
    containers themselves are not started)."""
    import yaml
    from dagster import DagsterInstance
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_docker import DockerRunLauncher

    deploy = PROJECT_ROOT / "deploy" / "docker"
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(deploy / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", postgres_url)
    monkeypatch.setenv("DAGSTER_RUN_IMAGE", "spotify-assets")
    instance = DagsterInstance.from_config(str(home))
    try:
        launcher, coordinator = instance.run_launcher, instance.run_coordinator
        assert isinstance(launcher, DockerRunLauncher) and launcher.image == "spotify-assets"
        assert isinstance(coordinator, QueuedRunCoordinator)
        queue = instance.get_concurrency_config().run_queue_config
        limits = {limit["key"]: limit for limit in queue.tag_concurrency_limits}
        assert queue.max_concurrent_runs == 8
        assert limits["spotify/listener"]["limit"] == 1 and limits["spotify/listener"]["value"]["applyLimitPerUniqueValue"]
        assert {"SPOTIFY_REFRESH_TOKEN", "DAGSTER_POSTGRES_URL", "SPOTIFY_DATA_DIR"} <= set(launcher.env_vars)
    finally:
        instance.dispose()

    compose = yaml.safe_load((deploy / "docker-compose.yaml").read_text())
    services = compose["services"]
    workspace = yaml.safe_load((deploy / "workspace.yaml").read_text())["load_from"][0]["grpc_server"]
    code_command = services["code"]["command"]
    assert workspace["host"] == "code" and str(workspace["port"]) == code_command[code_command.index("-p") + 1]
    (volume,) = launcher.container_kwargs["volumes"]
    for name in ("code", "webserver", "daemon"):
        service = services[name]
        environment = service["environment"]
        assert service["image"] == environment["DAGSTER_RUN_IMAGE"]  # each run's container is the same image
        assert launcher.networks == service["networks"] and launcher.networks[0] in compose["networks"]
        assert compose["volumes"][volume.split(":")[0]]["name"] == volume.split(":")[0] and volume in service["volumes"]
        assert "./dagster.yaml:/dagster_home/dagster.yaml:ro" in service["volumes"]
        assert environment["DAGSTER_HOME"] == "/dagster_home"
        assert environment["DAGSTER_POSTGRES_URL"].startswith("postgresql+psycopg2://")
    for name in ("webserver", "daemon"):
        command = services[name]["command"]
        mounted = {mount.split(":")[1] for mount in services[name]["volumes"]}
        assert f"/app/{command[command.index('-w') + 1]}" in mounted
    assert "/var/run/docker.sock:/var/run/docker.sock" in services["daemon"]["volumes"]
