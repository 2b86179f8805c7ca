from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from spotify_assets.lib.synthetic.exports import SyntheticHistory
from spotify_assets.settings import SpotifySettings

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config) -> None:
    """The definitions, which test modules import, need dbt's manifest: a checkout that has not run
    `spotify-assets prepare` gets it here, before collection (once, in the controlling process)."""
    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller has built it
    manifest = PROJECT_ROOT / "dbt_project" / "target" / "manifest.json"
    if not manifest.exists():
        subprocess.run([str(Path(sys.executable).with_name("spotify-assets")), "prepare"], check=True)


@pytest.fixture
def settings(tmp_path: Path) -> SpotifySettings:
    return SpotifySettings(data_dir=str(tmp_path / "data"), timezone="UTC")


@pytest.fixture(scope="session")
def small_history(tmp_path_factory) -> SyntheticHistory:
    """3,000 true plays rendered as the default four overlapping exports (written once per session)."""
    history = SyntheticHistory.generate(plays=3_000, seed=7)
    history.write_exports(tmp_path_factory.mktemp("small_history"))
    return history


@pytest.fixture
def warehouse(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def write_json(path: Path, value) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False))
    return path


def raw_counts(connection) -> dict[str, int]:
    from spotify_assets.lib.raw_tables import RECORD_TABLES

    return {t.name: connection.execute(f"SELECT count(*) FROM {t.qualified_name}").fetchall()[0][0] for t in RECORD_TABLES}


def expected_raw_rows(history: SyntheticHistory) -> dict[str, int]:
    """What the generator wrote into each raw table, over every export it rendered."""
    total: dict[str, int] = {}
    for export in history.exports:
        for table, count in export.raw_rows.items():
            total[table] = total.get(table, 0) + count
    return total


def cli_environment(data_dir: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SPOTIFY_", "DAGSTER_", "LASTFM_"))}
    environment |= {"SPOTIFY_DATA_DIR": str(data_dir), "DAGSTER_HOME": str(data_dir / "dagster_home")}
    return environment


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sleeps(list):
    """Stands in for time.sleep: records every wait instead of waiting."""

    def __call__(self, seconds):
        self.append(seconds)


CHROMIUM_HINT = ("headless Chromium not found: install Debian's browser and driver (`sudo apt-get install chromium "
                 "chromium-driver`, as .ci/run does) or point SPOTIFY_TEST_CHROMIUM and SPOTIFY_TEST_CHROMEDRIVER at them")


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, driven by Selenium through Debian's chromedriver (never a download)."""
    import shutil

    chromium = os.environ.get("SPOTIFY_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = os.environ.get("SPOTIFY_TEST_CHROMEDRIVER") or shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip(CHROMIUM_HINT)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    # The network here is closed: without the background-networking flags Chromium keeps trying Google.
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1400,1200"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def wait_for(driver, condition, timeout: float = 60, message: str = ""):
    """Selenium's explicit wait, returning what the condition returned."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.25).until(condition, message)


@pytest.fixture(scope="session")
def demo_data_dir(tmp_path_factory) -> Path:
    """`spotify-assets demo` on 3,000 plays in a zone with DST: landing, warehouse, published marts, the report
    and the Dagster instance with every materialization, as a listener has them after the README's first command.
    Made once for all test workers (the first one to need it, the others wait), then copied for each worker: some
    tests run the UI or dbt on it in place."""
    import shutil

    from filelock import FileLock

    # This run's folder: the workers' common parent under xdist, else the run's own.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    run_folder = tmp_path_factory.getbasetemp().parent if worker else tmp_path_factory.getbasetemp()
    shared = run_folder / "demo_shared"
    with FileLock(f"{shared}.lock"):
        if not (shared / "complete").exists():
            shutil.rmtree(shared, ignore_errors=True)
            environment = cli_environment(shared / "data") | {"SPOTIFY_TIMEZONE": DEMO_ZONE}
            subprocess.run([str(Path(sys.executable).with_name("spotify-assets")), "demo", "--plays", str(DEMO_PLAYS),
                            "--seed", str(DEMO_SEED)], env=environment, check=True, capture_output=True, timeout=900)
            (shared / "complete").touch()
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    shutil.copytree(shared / "data", data_dir)
    return data_dir


DEMO_PLAYS, DEMO_SEED, DEMO_ZONE = 3_000, 7, "Europe/Berlin"
