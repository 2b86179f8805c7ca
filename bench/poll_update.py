"""One recently-played poll update (50 new plays) on top of an existing history, as the schedule runs it.

    .venv/bin/python bench/poll_update.py --data-dir DIR

DIR must hold a built history (e.g. from `spotify-assets demo --plays N`); bench/run.py calls measure_poll()
for its smallest and largest size. A fake Spotify on 127.0.0.1 serves 50 plays after the newest one in the
history; `spotify-assets poll` then runs exactly as the schedule would (poll, the touched day partitions, the
incremental dbt build, publishing, the report). Returns the wall time and peak memory of the whole command
and dbt's own time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import duckdb

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from measure import run_measured  # noqa: E402

from spotify_assets.lib.simulated.spotify import SimulatedSpotify, track_object  # noqa: E402

NEW_PLAYS = 50
# The models of counting rules section 9 (skips, sessions, streaks, discovery, the year, eras, weekends). fct_plays'
# session and completion post-hooks run inside fct_plays' own time, reported beside them.
SECTION_NINE_MODELS = ("int_catalog_tracks_resolved", "fct_sessions", "mart_sessions_monthly", "mart_streaks",
                       "mart_skips_weekday_hour", "mart_skips_by", "mart_discovery_monthly", "mart_year_in_review",
                       "mart_weekday_weekend_shares", "mart_release_years")


def model_seconds(log: str) -> dict[str, float]:
    """Each model's time in the last dbt build of a runs.log excerpt (dbt's own "[OK in 0.05s]")."""
    timings: dict[str, float] = {}
    for name, seconds in re.findall(r"OK created (?:sql|python) \S+ model \S+?\.(\w+) \.* \[OK in ([\d.]+)s\]", log):
        timings[name] = float(seconds)
    return timings


def section_nine_share(log: str) -> dict:
    """What the section 9 models took of a build: their seconds, all models' seconds, and fct_plays' (their hooks)."""
    timings = model_seconds(log)
    return {"section_nine_seconds": round(sum(timings.get(m, 0.0) for m in SECTION_NINE_MODELS), 2),
            "all_models_seconds": round(sum(timings.values()), 2), "fct_plays_seconds": timings.get("fct_plays")}


def measure_poll(data_dir: Path, environment: dict[str, str]) -> dict:
    with duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True) as marts:
        plays, newest = marts.execute("SELECT count(*), epoch_ms(max(played_at_utc)) FROM marts.fct_plays").fetchall()[0]
        tracks = marts.execute("SELECT track_uris[1], track_name, artist_name FROM marts.dim_track "
                               "WHERE len(track_uris) > 0 ORDER BY streams DESC LIMIT ?", [NEW_PLAYS]).fetchall()
    runs_log = data_dir / "logs" / "runs.log"
    log_offset = runs_log.stat().st_size if runs_log.exists() else 0
    with SimulatedSpotify() as fake:
        for index, (uri, name, artist) in enumerate(tracks):
            track_id = uri.rsplit(":", 1)[-1]
            fake.add_play(newest + (index + 1) * 200_000, track_object(track_id, name, [artist], "Album", 190_000, "QZ0"))
        environment = environment | {
            "SPOTIFY_DATA_DIR": str(data_dir), "SPOTIFY_CLIENT_ID": fake.client_id,
            "SPOTIFY_CLIENT_SECRET": fake.client_secret, "SPOTIFY_REFRESH_TOKEN": "fake-refresh-token",
            "SPOTIFY_API_BASE_URL": fake.base_url, "SPOTIFY_ACCOUNTS_BASE_URL": fake.base_url}
        measured = run_measured([str(Path(sys.executable).with_name("spotify-assets")), "poll"], env=environment)
    if measured.completed.returncode != 0:
        raise SystemExit(f"poll failed: {measured.completed.stderr[-2000:]}")
    received = re.search(r"poll: (\d+) new plays", measured.completed.stdout)
    log = runs_log.read_text()[log_offset:]
    dbt_seconds = [float(s) for s in re.findall(r"in 0 hours 0 minutes and ([\d.]+) seconds", log)]
    return {"plays_in_history": plays, "new_plays": int(received.group(1)) if received else 0,
            "seconds": round(measured.seconds, 2), "peak_mb": round(measured.peak_mb),
            "dbt_seconds": dbt_seconds[-1] if dbt_seconds else None, **section_nine_share(log)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    arguments = parser.parse_args()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SPOTIFY_", "DAGSTER_"))}
    print(json.dumps(measure_poll(arguments.data_dir.resolve(), environment)))


if __name__ == "__main__":
    main()
