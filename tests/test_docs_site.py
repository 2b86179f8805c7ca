"""The dbt docs site: generated in the warehouse pool (so it waits for a build instead of fighting it for
DuckDB's lock), complete (every source, model, seed and column described), served and read in a browser."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import cli_environment, free_port, wait_for
from dagster import DagsterInstance
from selenium.webdriver.common.by import By

from spotify_assets.lib.dbt_docs.coverage import undocumented
from spotify_assets.lib.warehouse import WAREHOUSE_POOL

pytestmark = pytest.mark.slow


def test_generation_waits_for_the_warehouse_pool_then_the_site_serves_model_and_exposure_pages(demo_data_dir, browser, monkeypatch):
    site = demo_data_dir / "dbt_docs"
    # Something else (a build, say) holds the warehouse pool's one slot.
    monkeypatch.setenv("DAGSTER_HOME", str(demo_data_dir / "dagster_home"))
    instance = DagsterInstance.get()
    storage = instance.event_log_storage
    assert storage.claim_concurrency_slot(WAREHOUSE_POOL, "a-build-in-progress", "warehouse_models").is_claimed
    port = free_port()
    # Started with SIGINT ignored, as a script's background job is: Ctrl-C must stop the server all the same.
    process = subprocess.Popen([str(Path(sys.executable).with_name("spotify-assets")), "docs", "--port", str(port)],
                               env=cli_environment(demo_data_dir), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        time.sleep(25)
        assert process.poll() is None and not (site / "index.html").exists()  # waiting, not failing
        storage.free_concurrency_slot_for_step("a-build-in-progress", "warehouse_models")
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(1)
        manifest = json.loads((site / "manifest.json").read_text())
        assert undocumented(manifest, json.loads((site / "catalog.json").read_text())) == []
        assert {"listening_report", "sql_over_published_marts"} <= {e["name"] for e in manifest["exposures"].values()}

        browser.get(f"http://127.0.0.1:{port}/#!/overview")  # the first page: what this is, where to start
        wait_for(browser, lambda d: "Where to start" in d.find_element(By.TAG_NAME, "body").text,
                 message="the overview page says where to start")
        assert "The counting rules, in short" in browser.find_element(By.TAG_NAME, "body").text
        browser.get(f"http://127.0.0.1:{port}/#!/model/model.spotify_warehouse.fct_plays")
        wait_for(browser, lambda d: "One row per deduplicated music play." in d.find_element(By.TAG_NAME, "body").text,
                 message="the fct_plays page shows its description")
        body = browser.find_element(By.TAG_NAME, "body").text
        assert "local_hour" in body and "is_stream" in body  # its columns, from the YAML and the catalog
        browser.get(f"http://127.0.0.1:{port}/#!/exposure/exposure.spotify_warehouse.listening_report")
        wait_for(browser, lambda d: "listening_report.html" in d.find_element(By.TAG_NAME, "body").text,
                 message="the report's exposure page")
    finally:
        storage.free_concurrency_slot_for_step("a-build-in-progress", "warehouse_models")
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 0  # Ctrl-C stops the server cleanly


def test_the_coverage_check_names_what_is_undocumented():
    manifest = {"nodes": {"model.p.m": {"resource_type": "model", "description": "d",
                                        "columns": {"a": {"description": "x"}, "b": {"description": " "}}},
                          "test.p.t": {"resource_type": "test", "description": ""}},
                "sources": {"source.p.s.t": {"resource_type": "source", "description": "", "columns": {}}}}
    catalog = {"nodes": {"model.p.m": {"columns": {"A": {}, "b": {}, "c": {}}}}, "sources": {"source.p.s.t": {"columns": {}}}}
    assert undocumented(manifest, catalog) == ["model.p.m.b", "model.p.m.c", "source.p.s.t"]
