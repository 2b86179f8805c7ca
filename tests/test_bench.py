"""The benchmark harness at its smallest size, as a smoke test that it works (CI never judges the timings)."""

import json
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow


def test_the_harness_measures_every_stage_and_writes_its_tables(tmp_path):
    # One poll and 20 ranges: enough to see every stage work (`make bench` runs five polls and 200 ranges).
    completed = subprocess.run([sys.executable, str(PROJECT_ROOT / "bench" / "run.py"), "--sizes", "10000",
                                "--polls", "1", "--ranges", "20", "--catalog-rows", "3000", "--work-dir", str(tmp_path / "work"), "--results", str(tmp_path / "results")],
                               capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads((tmp_path / "results" / "latest.json").read_text())
    size, = report["sizes"]
    assert report["machine"]["cores"] >= 1 and size["plays"] == 10_000
    assert size["plays_in_marts"] > 9_000 and size["baseline"]["records_read"] > 10_000
    assert size["baseline"]["top_10_artists_in_common"] >= 8  # the baseline answers the same question
    assert size["import"]["seconds"] > 0 and size["import"]["peak_mb"] > 50  # the whole process tree is sampled
    assert size["poll_update"]["new_plays"] == 50 and len(size["poll_update"]["runs"]) == 1
    assert set(size["macros"]) == {"top_artists", "top_tracks", "top_artists by minutes", "most_skipped_tracks",
                                   "new_artists", "heatmap", "hour_drilldown", "top_track_features", "recommendations"}
    # The catalog file of audio features is imported and timed; the listening modes are found in the build after it.
    catalog = size["catalog"]
    assert catalog["rows"] >= 3000 and 0 < catalog["read_seconds"] < catalog["seconds"] and catalog["modes"] >= 2
    assert catalog["modes_seconds"] > 0 and 0.5 < catalog["coverage"] < 1
    # What the section 9 models take of the import's and the poll's dbt time is measured, from dbt's own timings.
    for stage in (size["import"], size["poll_update"]):
        assert 0 < stage["section_nine_seconds"] < stage["all_models_seconds"] and stage["fct_plays_seconds"] > 0
    assert "Section 9 models (sessions, streaks, skips, discovery, years, eras, weekends) at 10,000 plays:" in \
        completed.stdout
    assert all(0 < timing["p50_ms"] <= timing["p95_ms"] for timing in size["macros"].values())
    judged = {name for name, *_ in report["targets"]}
    assert any(name.startswith("poll update on 10,000") for name in judged) and "peak memory, any stage" in judged
    assert "| target | limit | measured | met |" in completed.stdout  # the table is printed
    assert (tmp_path / "results" / "latest.md").read_text() == completed.stdout.rstrip("\n") + "\n"
