"""An export of many tiny members costs what its history costs, not a fixed price per member.

Builds a zip of one extended-history file (5,000 records) and N tiny other members (a photo album zipped with the
export, say), then times `import_export` into a new DuckDB file, for N = 0 and for N = --members (30,000 by
default), each --repeats times, alternating. Prints the medians and their ratio.

    .venv/bin/python bench/many_members.py [--members 30000] [--repeats 3] [--history-members 0]

`--history-members K` makes K of the tiny members one-record account-data history files instead.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

import duckdb

from spotify_assets.lib.exports.importing import import_export
from spotify_assets.lib.exports.landing import receive_export

RECORD = {"ts": "2020-01-01T10:00:00Z", "platform": "android", "ms_played": 200000, "conn_country": "DE",
          "master_metadata_track_name": "Song", "master_metadata_album_artist_name": "Artist",
          "master_metadata_album_album_name": "Album", "spotify_track_uri": "spotify:track:x", "reason_start": "clickrow",
          "reason_end": "trackdone", "shuffle": False, "skipped": False, "offline": False, "offline_timestamp": None,
          "incognito_mode": False}


def build(path: Path, members: int, history_members: int) -> Path:
    records = [dict(RECORD, ms_played=100_000 + index) for index in range(5_000)]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("MyData/endsong_0.json", json.dumps(records))
        for index in range(members):
            if index < history_members:
                archive.writestr(f"Spotify Account Data/StreamingHistory{index}.json", json.dumps(
                    [{"endTime": "2024-01-01 10:00", "artistName": "A", "trackName": f"T{index}", "msPlayed": 1000}]))
            else:
                archive.writestr(f"photos/{index:05}.txt", b"x")
    return path


def time_import(export: Path, scratch: Path) -> float:
    database = scratch / f"w{time.monotonic_ns()}.duckdb"
    with duckdb.connect(str(database)) as connection:
        landed = receive_export(export, scratch / "landing")
        started = time.perf_counter()
        import_export(connection, landed)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--history-members", type=int, default=0)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        plain = build(scratch / "plain.zip", 0, 0)
        many = build(scratch / "many.zip", arguments.members, arguments.history_members)
        times = {"plain": [], "many": []}
        for _ in range(arguments.repeats):
            times["plain"].append(time_import(plain, scratch))
            times["many"].append(time_import(many, scratch))
    plain_s, many_s = statistics.median(times["plain"]), statistics.median(times["many"])
    print(f"1 history file: {plain_s:.2f} s; with {arguments.members:,} more members "
          f"({arguments.history_members:,} of them history): {many_s:.2f} s; ratio {many_s / plain_s:.1f}x")


if __name__ == "__main__":
    main()
