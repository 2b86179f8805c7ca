"""`spotify-assets demo` again on the folder a demo filled (a copy of the tests' demo folder, in the demo's zone):
doing nothing says so, `--live` polls a simulated Spotify, an export imported by mistake comes out again."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (
    DEMO_PLAYS,
    DEMO_SEED,
    DEMO_ZONE,
    cli_environment,
    expected_raw_rows,
)
from dagster import AssetKey

from spotify_assets.instance.home import open_instance
from spotify_assets.lib.publishing.publish import connect_published
from spotify_assets.lib.synthetic.exports import SyntheticHistory

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).with_name("spotify-assets"))
DEMO = ["demo", "--plays", str(DEMO_PLAYS), "--seed", str(DEMO_SEED)]


@pytest.fixture
def data_dir(demo_data_dir, tmp_path) -> Path:
    return shutil.copytree(demo_data_dir, tmp_path / "data")


def _run(data_dir: Path, *arguments) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *arguments], env=cli_environment(data_dir) | {"SPOTIFY_TIMEZONE": DEMO_ZONE},
                          capture_output=True, text=True, timeout=600)


def _jobs(data_dir: Path) -> list[str]:
    instance = open_instance(data_dir / "dagster_home")
    try:
        return [run.job_name for run in instance.get_runs()]  # newest first
    finally:
        instance.dispose()


def test_the_demo_run_again_imports_and_builds_nothing_and_says_so(data_dir, tmp_path):
    """A second `make demo` imported all four exports again and rebuilt everything, saying nothing of it."""
    runs = _jobs(data_dir)
    again = _run(data_dir, *DEMO)
    assert again.returncode == 0, again.stderr
    assert _jobs(data_dir) == runs  # no import, no enrichment, no build
    history = SyntheticHistory.generate(plays=DEMO_PLAYS, seed=DEMO_SEED)
    history.write_exports(tmp_path / "expected")
    for export in history.exports:
        assert f"{export.path.name}: already imported (same content as {export.path.name}, " in again.stdout
    assert "importing" not in again.stdout and "building the warehouse" not in again.stdout
    assert "nothing new: no import, no enrichment, no build; the warehouse as it was:" in again.stdout
    for table, count in expected_raw_rows(history).items():
        assert f"raw.{table}" in again.stdout and f"{count:,}" in again.stdout.split(f"raw.{table}")[1].splitlines()[0]
    assert "top 5 genres, all time" in again.stdout  # from the simulated Last.fm
    assert "1 other file ignored" in again.stdout and "1 other files" not in again.stdout
    assert "scale: blank none, " in again.stdout and "oracle: all " in again.stdout
    # The same bytes under another name and path: no import either, and the name it was imported under.
    renamed = tmp_path / "renamed.zip"
    renamed.write_bytes(history.exports[0].path.read_bytes())
    same = _run(data_dir, "import", str(renamed))
    assert same.returncode == 0 and _jobs(data_dir) == runs
    assert same.stdout.startswith(f"renamed.zip: already imported (same content as {history.exports[0].path.name}, ")
    forced = _run(data_dir, "import", "--force", str(renamed))
    assert forced.returncode == 0 and "importing renamed.zip" in forced.stdout
    assert _jobs(data_dir)[:2] == ["build_warehouse_job", "import_spotify_export_job"]


def test_the_live_demo_polls_a_simulated_spotify_as_the_schedule_does(data_dir):
    """Polling could only be seen against a test's fake; `demo --live` shows the schedule's poll, the day partitions
    and the gap check at work, offline."""
    live = _run(data_dir, *DEMO, "--live")
    assert live.returncode == 0, live.stderr
    polls = [line for line in live.stdout.splitlines() if line.startswith("poll: ")]
    assert [line.split(",")[0] for line in polls] == ["poll: 20 new plays", "poll: 8 new plays", "poll: 50 new plays"]
    assert "(the listener played 70 tracks since the poll before; more than the 50 Spotify keeps, so the check " \
        "no_plays_lost fails):" in live.stdout
    assert "warning: the check no_plays_lost failed: plays between " in live.stderr  # 70 played, 50 kept
    assert "oracle: all" in live.stdout  # compared before the polls
    jobs = _jobs(data_dir)
    assert jobs.count("poll_recently_played_job") == 3 and jobs.count("update_after_poll_job") == 3
    instance = open_instance(data_dir / "dagster_home")
    try:
        assert instance.get_materialized_partitions(AssetKey(["raw", "recently_played_items"]))
    finally:
        instance.dispose()
    with connect_published(data_dir / "marts.duckdb") as marts:
        assert marts.execute("SELECT count(*) FROM fct_plays WHERE source = 'api'").fetchall() == [(78,)]
    again = _run(data_dir, *DEMO)
    assert again.returncode == 0 and "the warehouse also holds plays polled from Spotify" in again.stdout


def test_an_export_imported_by_mistake_is_removed_and_the_demo_compares_again(data_dir, tmp_path):
    """A landed file that is no export of the listener's (or an export imported by mistake) could not be taken out:
    its plays stayed in the marts, and the demo's comparison with its ground truth was off for good."""
    stray = tmp_path / "endsong_9.json"
    stray.write_text(json.dumps([{"ts": f"2024-03-0{day}T10:00:00Z", "ms_played": 200_000,
                                  "master_metadata_track_name": "Not Mine", "master_metadata_album_artist_name":
                                  "A Stranger", "spotify_track_uri": "spotify:track:0000000000000000000009"}
                                 for day in range(1, 4)]))
    assert _run(data_dir, "import", str(stray)).returncode == 0
    compared = _run(data_dir, *DEMO)
    assert "oracle: not compared, the warehouse also holds other exports (endsong_9.json)" in compared.stdout
    assert "endsong_9.json" in _run(data_dir, "exports", "list").stdout
    removed = _run(data_dir, "exports", "remove", "endsong_9.json")
    assert removed.returncode == 0, removed.stderr
    assert "building the warehouse (the export endsong_9.json was removed since the warehouse was built)" \
        in removed.stdout
    with connect_published(data_dir / "marts.duckdb") as marts:
        assert marts.execute("SELECT count(*) FROM fct_plays WHERE artist_name = 'A Stranger'").fetchall() == [(0,)]
    assert "endsong_9.json" not in _run(data_dir, "exports", "list").stdout
    assert not list((data_dir / "landing" / "exports").glob(".removed-*"))
    again = _run(data_dir, *DEMO)
    assert again.returncode == 0 and "oracle: all" in again.stdout
    back = _run(data_dir, "import", str(stray))  # landed again after its removal: imported again
    assert back.returncode == 0 and "importing endsong_9.json" in back.stdout
