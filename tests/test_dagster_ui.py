"""The Dagster UI in a real browser, on the instance `spotify-assets demo` filled: `spotify-assets ui` starts the
webserver and the daemon on 127.0.0.1, the catalog lists the asset graph in its groups, and an asset page shows
its latest materialization with the metadata (the heatmap picture among it)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import PROJECT_ROOT, cli_environment, free_port, wait_for
from selenium.webdriver.common.by import By

from spotify_assets.cli.healthcheck import DAEMON_HEALTH

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dagster_ui(demo_data_dir, tmp_path_factory):
    """The UI and its daemon on a copy of the demo's data folder, in the zone the demo was built in (in another, the
    daemon would rightly rebuild every model: the other tests' copy stays as it is)."""
    import shutil

    from conftest import DEMO_ZONE

    data_dir = shutil.copytree(demo_data_dir, tmp_path_factory.mktemp("ui") / "data")
    port = free_port()
    process = subprocess.Popen([str(Path(sys.executable).with_name("spotify-assets")), "ui", "--port", str(port)],
                               env=cli_environment(data_dir) | {"SPOTIFY_TIMEZONE": DEMO_ZONE}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            try:
                statuses = httpx.post(f"{url}/graphql", json={"query": DAEMON_HEALTH}, timeout=5).json()[
                    "data"]["instance"]["daemonHealth"]["allDaemonStatuses"]
                if all(status["healthy"] for status in statuses if status["required"]):
                    break
            except (httpx.TransportError, KeyError, TypeError, ValueError):
                pass
            time.sleep(2)
        # Dagster's one-time community dialog covers the page at some moment after it loads, which made clicks
        # land on its backdrop. Answer it as its Skip button does, once, before any page opens.
        seen = httpx.post(f"{url}/graphql", json={"query": "mutation { setNuxSeen }"}, timeout=10).json()
        assert seen == {"data": {"setNuxSeen": True}}, seen
        yield url, statuses
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        assert process.wait(timeout=60) is not None


def body_text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def test_the_webserver_and_the_daemon_run(dagster_ui):
    _, statuses = dagster_ui
    running = {status["daemonType"] for status in statuses if status["healthy"]}
    assert {"SENSOR", "SCHEDULER", "ASSET"} <= running, statuses


def test_the_catalog_lists_the_asset_graph_in_its_groups(dagster_ui, browser):
    url, _ = dagster_ui
    browser.get(f"{url}/asset-groups")
    groups = ("sources", "staging", "intermediate", "marts", "enrichment", "reports")
    wait_for(browser, lambda d: all(group in body_text(d) for group in groups), message="the global lineage's groups")
    # One asset of each group (the list shortens long names, so look for the link to the asset's page).
    for group, asset in [("sources", "raw/export_files"), ("staging", "staging/stg_lastfm__tracks"),
                         ("intermediate", "intermediate/int_plays_deduplicated"), ("marts", "marts/fct_plays"),
                         ("enrichment", "lastfm/track_info"), ("reports", "reports/listening_report")]:
        browser.get(f"{url}/locations/spotify_assets/asset-groups/{group}/list")
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"a[href$='/assets/{asset}']"),
                 message=f"{asset} in the group {group}")


def test_an_asset_page_shows_its_latest_materialization_with_the_heatmap_picture(dagster_ui, browser):
    url, _ = dagster_ui
    browser.get(f"{url}/assets/reports/listening_report")
    wait_for(browser, lambda d: "weekday_hour_heatmap" in body_text(d), message="the report's metadata")
    text = body_text(browser)
    assert "Latest materialization" in text and "listening-history" in text and "top_artists" in text
    browser.find_element(By.XPATH, "//a[normalize-space()='[Show Markdown]']").click()
    picture = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "img[src^='data:image/png;base64,']"),
                       message="the heatmap picture")[0]
    assert picture.get_attribute("naturalWidth") not in (None, "0")  # the PNG decoded


def test_a_dbt_model_page_shows_row_count_preview_docs_link_and_checks(dagster_ui, browser):
    url, _ = dagster_ui
    browser.get(f"{url}/assets/marts/dim_artist")
    wait_for(browser, lambda d: "dbt_docs" in body_text(d), message="the model's metadata")
    text = body_text(browser)
    assert "preview" in text and "One row per" in text
    link = browser.find_element(By.CSS_SELECTOR, "a[href*='#!/model/model.spotify_warehouse.dim_artist']")
    assert link.get_attribute("href").startswith("http://127.0.0.1:8080/")
    browser.get(f"{url}/assets/marts/dim_artist?view=checks")
    # The UI shortens long names in the middle (unique_per_liste…rtist_artist_key).
    wait_for(browser, lambda d: "not_null_dim_artist_artist_key" in body_text(d) and "unique_per_liste" in body_text(d),
             message="dbt tests as asset checks")


def dockerfile_instruction(name: str) -> list[str]:
    """The JSON-form arguments of a Dockerfile instruction (continuation lines joined)."""
    text = (PROJECT_ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith(name + " "))
    return json.loads(line[line.index("["):])


def test_the_container_health_check_passes_against_the_running_ui_and_fails_without_it(dagster_ui):
    url, _ = dagster_ui
    port = url.rsplit(":", 1)[1]
    command = [part.replace("3000", port) for part in dockerfile_instruction("HEALTHCHECK")]
    command[0] = str(Path(sys.executable).with_name("spotify-assets"))  # .venv/bin/spotify-assets in the image
    healthy = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert healthy.returncode == 0 and "healthy" in healthy.stdout, healthy.stderr
    nothing_there = subprocess.run([*command[:-1], str(free_port())], capture_output=True, text=True, timeout=60)
    assert nothing_there.returncode == 1 and "does not answer" in nothing_there.stderr
