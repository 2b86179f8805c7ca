"""One history file far larger than Spotify writes, against the same records in files of Spotify's size.

Writes N extended-history records (458,622 by default: the 300 MB single file a listener merged by hand) once as one
JSON file and once as a zip of files of about 12 MB, then imports each into a new DuckDB file in a process of its own
(`import_export`, what the import asset runs), --repeats times, alternating, measuring wall time and the process's peak
memory. Prints the medians and their ratios.

    .venv/bin/python bench/big_file.py [--records 458622] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import zipfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from measure import run_measured  # noqa: E402

RECORD = {"ts": "2020-01-01T10:00:00Z", "username": "someone", "platform": "Android OS 10 API 29 (Google, Pixel 3)",
          "ms_played": 200000, "conn_country": "DE", "ip_addr_decrypted": "198.51.100.7",
          "user_agent_decrypted": "unknown", "master_metadata_track_name": "Song",
          "master_metadata_album_artist_name": "Artist", "master_metadata_album_album_name": "Album",
          "spotify_track_uri": "spotify:track:0000000000000000000000", "episode_name": None,
          "episode_show_name": None, "spotify_episode_uri": None, "reason_start": "trackdone",
          "reason_end": "trackdone", "shuffle": False, "skipped": None, "offline": False,
          "offline_timestamp": 1553995812, "incognito_mode": False}
SPOTIFY_FILE_BYTES = 12 * 2**20
IMPORT = """
import sys, duckdb
from pathlib import Path
from spotify_assets.lib.exports.importing import import_export
from spotify_assets.lib.exports.landing import receive_export
scratch = Path(sys.argv[2])
with duckdb.connect(str(scratch / "warehouse.duckdb")) as connection:
    summary = import_export(connection, receive_export(Path(sys.argv[1]), scratch / "landing"))
print(summary.count("accepted"), summary.count("quarantined"))
"""


def records(count: int):
    for index in range(count):
        yield json.dumps(RECORD | {"ts": f"20{10 + index % 15}-{1 + index % 12:02d}-{1 + index % 28:02d}T"
                                         f"{index % 24:02d}:{index % 60:02d}:{index % 59:02d}Z",
                                   "ms_played": 30_000 + index % 200_000, "master_metadata_track_name": f"Song {index}",
                                   "spotify_track_uri": f"spotify:track:{index:022d}"})


def write_exports(folder: Path, count: int) -> tuple[Path, Path]:
    single = folder / "Streaming_History_Audio_all.json"
    with single.open("w") as handle:
        handle.write("[\n" + ",\n".join(records(count)) + "\n]")
    split = folder / "my_spotify_data.zip"
    with zipfile.ZipFile(split, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        batch, size, number = [], 0, 0
        for record in records(count):
            batch.append(record)
            size += len(record) + 2
            if size >= SPOTIFY_FILE_BYTES:
                archive.writestr(f"MyData/Streaming_History_Audio_{number}.json", "[\n" + ",\n".join(batch) + "\n]")
                batch, size, number = [], 0, number + 1
        if batch:
            archive.writestr(f"MyData/Streaming_History_Audio_{number}.json", "[\n" + ",\n".join(batch) + "\n]")
    return single, split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=458_622)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="big-file-") as scratch:
        folder = Path(scratch)
        single, split = write_exports(folder, arguments.records)
        print(f"{arguments.records:,} records: one file of {single.stat().st_size / 2**20:.0f} MB, or a zip of "
              f"{len(zipfile.ZipFile(split).namelist())} files of about {SPOTIFY_FILE_BYTES // 2**20} MB")
        figures: dict[str, list] = {"one file": [], "Spotify's files": []}
        for attempt in range(arguments.repeats):
            for name, export in (("one file", single), ("Spotify's files", split)):
                work = folder / f"{attempt}-{len(figures[name])}-{name[0]}"
                work.mkdir()
                measured = run_measured([sys.executable, "-c", IMPORT, str(export), str(work)])
                if measured.completed.returncode != 0:
                    raise SystemExit(measured.completed.stderr[-2000:])
                accepted, quarantined = measured.completed.stdout.split()
                assert int(accepted) == arguments.records and int(quarantined) == 0, measured.completed.stdout
                figures[name].append((measured.seconds, measured.peak_mb))
        for name, runs in figures.items():
            print(f"{name}: median {statistics.median(s for s, _ in runs):.2f} s, peak "
                  f"{statistics.median(m for _, m in runs):.0f} MB (runs: "
                  + ", ".join(f"{s:.2f} s / {m:.0f} MB" for s, m in runs) + ")")
        one, spotify = (statistics.median(s for s, _ in figures[name]) for name in figures)
        print(f"one file / Spotify's files: {one / spotify:.2f}x the time")


if __name__ == "__main__":
    main()
