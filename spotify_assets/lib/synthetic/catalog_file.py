"""A synthetic catalog file of audio features for a synthetic history, as the public Kaggle Spotify tracks datasets
lay theirs out (`track_id, artists, album_name, track_name, danceability, energy, valence, tempo, acousticness, ...`).

Each artist plays in one of three planted listening modes (upbeat, quiet and acoustic, tense), and its tracks'
features scatter around that mode's centre. Of the history's tracks, one in ten is missing; the others are listed
alternately under their Spotify id (another title beside it) and by name alone, in capitals; tracks nobody played and rows that a catalog import must
quarantine (a feature out of range, no artist) come with them. The file is deterministic for a history.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HEADER = ["track_id", "artists", "album_name", "track_name", "popularity", "duration_ms", "danceability", "energy",
          "valence", "tempo", "acousticness", "instrumentalness", "speechiness", "liveness", "loudness"]
# (valence, energy, acousticness, danceability) at the centre of each planted mode
MODES = ((0.80, 0.80, 0.10, 0.75), (0.35, 0.20, 0.85, 0.35), (0.20, 0.85, 0.15, 0.45))


def _clip(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 4)


def planted_modes(history, rng: random.Random | None = None) -> dict[str, int]:
    """The planted listening mode (an index into MODES) of each artist of the history."""
    rng = rng or random.Random(history.seed * 7919 + 11)
    artists = sorted({play.item.artist for play in history.plays if play.kind == "music"})
    return {artist: rng.randrange(len(MODES)) for artist in artists}


def catalog_rows(history, unplayed: int = 40) -> list[list]:
    rng = random.Random(history.seed * 7919 + 11)
    tracks = sorted({play.item for play in history.plays if play.kind == "music"}, key=lambda t: t.uri)
    mode_of = planted_modes(history, rng)
    rows = []
    for number, track in enumerate(tracks):
        if number % 10 == 9:
            continue  # a catalog never knows every track
        valence, energy, acousticness, danceability = (_clip(c + rng.gauss(0, 0.07)) for c in MODES[mode_of[track.artist]])
        features = [danceability, energy, valence, round(rng.uniform(70, 170), 3), acousticness,
                    _clip(rng.random() * 0.2), _clip(rng.random() * 0.1), _clip(rng.random() * 0.3),
                    round(rng.uniform(-14, -4), 3)]
        if number % 2 == 0:
            rows.append([track.uri.rsplit(":", 1)[-1], track.artist, track.album, f"{track.name} (Remastered)",
                         rng.randrange(100), track.duration_ms, *features])
        else:
            rows.append(["", track.artist.upper(), track.album, track.name.upper(), rng.randrange(100), track.duration_ms,
                         *features])
    for number in range(unplayed):  # never played: what recommendations draw from
        mode = MODES[number % len(MODES)]
        valence, energy, acousticness, danceability = (_clip(c + rng.gauss(0, 0.07)) for c in mode)
        rows.append([f"unplayed{number:014d}", f"New Voice {number % 9}", "Fresh", f"Unplayed Song {number}",
                     rng.randrange(100), 200_000, danceability, energy, valence, 120.0, acousticness, 0.0, 0.05, 0.1,
                     -8.0])
    rows.append(["", "Broken Row", "X", "Too Happy", 1, 200_000, 0.5, 0.5, 1.5, 120.0, 0.5, 0.0, 0.05, 0.1, -8.0])
    rows.append(["", "", "X", "No Artist", 1, 200_000, 0.5, 0.5, 0.5, 120.0, 0.5, 0.0, 0.05, 0.1, -8.0])
    return rows


def write_catalog_file(history, path: Path, unplayed: int = 40) -> list[list]:
    """Write the history's catalog file as CSV, with `unplayed` tracks nobody played; returns its rows (without the
    header)."""
    rows = catalog_rows(history, unplayed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return rows
