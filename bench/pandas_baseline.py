"""The baseline: a plain pandas script over the same export files, no warehouse, no orchestration.

    python bench/pandas_baseline.py --timezone Europe/Berlin EXPORT...

Reads every extended streaming history file (zip or folder), drops records repeated across overlapping
exports, keeps streams (30 s or more of music) and computes the all-time top 10 artists and the weekday x hour
heatmap in the listener's zone. Prints them as JSON. It is what a hobby script does; it ignores the
account-data export, the Web API, identity by normalized name and cross-source matching.
"""

import argparse
import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd

EXTENDED = re.compile(r"(endsong.*|Streaming_History_Audio_.*)\.json$")


def history_files(export: Path):
    if export.is_dir():
        for path in sorted(export.rglob("*.json")):
            if EXTENDED.search(path.name):
                yield path.read_bytes()
    else:
        with zipfile.ZipFile(export) as archive:
            for name in sorted(archive.namelist()):
                if EXTENDED.search(Path(name).name):
                    yield archive.read(name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("exports", nargs="+", type=Path)
    parser.add_argument("--timezone", default="UTC")
    arguments = parser.parse_args()
    frames = [pd.read_json(io.BytesIO(content)) for export in arguments.exports for content in history_files(export)]
    plays = pd.concat(frames, ignore_index=True)
    plays = plays.drop_duplicates(subset=["ts", "spotify_track_uri", "ms_played"])
    streams = plays[plays["spotify_track_uri"].notna() & plays["master_metadata_album_artist_name"].notna()
                    & (plays["ms_played"] >= 30_000)]
    local = pd.to_datetime(streams["ts"], utc=True).dt.tz_convert(arguments.timezone)
    top = streams["master_metadata_album_artist_name"].value_counts().head(10)
    heatmap = local.groupby([local.dt.dayofweek + 1, local.dt.hour]).size()
    print(json.dumps({
        "records_read": int(sum(len(frame) for frame in frames)),
        "streams": int(len(streams)),
        "top_artists": [[name, int(count)] for name, count in top.items()],
        "weekday_hour": {f"{weekday}-{hour}": int(count) for (weekday, hour), count in heatmap.items()},
    }))


if __name__ == "__main__":
    main()
