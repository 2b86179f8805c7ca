"""Rows of raw.spotify_top_items, raw.playlists and raw.playlist_items from landing/spotify_view/ (landing.py).

Read as landed, both shapes of a playlist's items: entries of GET /v1/playlists/{id}/items carry the track or episode
in `item` (and, while Spotify keeps it, the same object in the deprecated `track`); entries of the former /tracks
route carry only `track`. A playlist object counts its items in `items.total` (formerly `tracks.total`). Local
files and entries Spotify no longer has (a null object, no id, `is_playable: false`) are rows like any other. A file
that is not JSON is named in a problem line and stays in landing; the rest is read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from spotify_assets.lib.listeners import DEFAULT_LISTENER
from spotify_assets.lib.raw_tables import PLAYLIST_ITEMS, PLAYLISTS, SPOTIFY_TOP_ITEMS
from spotify_assets.lib.spotify_view.landing import (
    ITEM_TYPES,
    TIME_RANGES,
    items_folder,
    playlists_folder,
    top_items_folder,
)


@dataclass
class Rows:
    rows: list[tuple] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _json(path: Path, rows: Rows):
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as error:
        rows.problems.append(f"{path.name}: not readable as JSON ({type(error).__name__}); left in landing")
        return None


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _count(value) -> int | None:
    """A count or length as Spotify sends it; anything else (text, a flag, a number no column holds) is unknown."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31 else None


def _artists(track: dict) -> str | None:
    artists = track.get("artists")
    if not isinstance(artists, list):
        return None
    return json.dumps([{"id": _text(a.get("id")), "name": _text(a.get("name"))} for a in artists if isinstance(a, dict)],
                      ensure_ascii=False)


def _timestamp(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)
    except ValueError:
        return None


def top_item_rows(root: Path, day: date, loaded_at: datetime, listener: str = DEFAULT_LISTENER) -> Rows:
    """One row per rank of each of the day's landed top lists."""
    result = Rows()
    folder = top_items_folder(root, day)
    for item_type in ITEM_TYPES:
        for time_range in TIME_RANGES:
            path = folder / f"{item_type}_{time_range}.json"
            answer = _json(path, result) if path.exists() else None
            if not isinstance(answer, dict):
                continue
            for index, item in enumerate(answer.get("items") or []):
                item = item if isinstance(item, dict) else {}
                album = item.get("album") if isinstance(item.get("album"), dict) else {}
                result.rows.append(SPOTIFY_TOP_ITEMS.row(
                    snapshot_date=day, time_range=time_range, item_type=item_type[:-1], rank=index + 1,
                    item_id=_text(item.get("id")), item_uri=_text(item.get("uri")), item_name=_text(item.get("name")),
                    artists_json=_artists(item) if item_type == "tracks" else None, album_name=_text(album.get("name")),
                    _landed_file=f"top_items/{day}/{path.name}", _loaded_at=loaded_at, listener=listener))
    return result


def my_user_id(root: Path) -> str | None:
    try:
        return _text(json.loads((root / "me.json").read_bytes()).get("id"))
    except (OSError, ValueError, AttributeError):
        return None


def playlist_rows(root: Path, day: date, loaded_at: datetime, listener: str = DEFAULT_LISTENER) -> Rows:
    """One row per playlist of the day's landed list, and whether its items at that snapshot landed."""
    result = Rows()
    me = my_user_id(root)
    position = 0
    for page in sorted(playlists_folder(root, day).glob("page_*.json")):
        answer = _json(page, result)
        for playlist in (answer.get("items") or []) if isinstance(answer, dict) else []:
            if not isinstance(playlist, dict):
                continue
            playlist_id, snapshot_id = _text(playlist.get("id")), _text(playlist.get("snapshot_id"))
            counted = playlist.get("items") if isinstance(playlist.get("items"), dict) else playlist.get("tracks")
            total = _count(counted.get("total")) if isinstance(counted, dict) else None
            owner = playlist.get("owner") if isinstance(playlist.get("owner"), dict) else {}
            status = "missing"
            if playlist_id and snapshot_id:
                folder = items_folder(root, playlist_id, snapshot_id)
                status = ("landed" if folder.is_dir() else
                          "unreadable" if folder.with_name(folder.name + ".unreadable.json").exists() else "missing")
            result.rows.append(PLAYLISTS.row(
                pulled_on=day, position=position, playlist_id=playlist_id, name=_text(playlist.get("name")),
                description=_text(playlist.get("description")),
                owner_is_me=None if me is None or not owner else owner.get("id") == me,
                collaborative=playlist.get("collaborative") if isinstance(playlist.get("collaborative"), bool) else None,
                public=playlist.get("public") if isinstance(playlist.get("public"), bool) else None,
                snapshot_id=snapshot_id, items_total=total, items_status=status,
                _landed_file=f"playlists/{day}/{page.name}", _loaded_at=loaded_at, listener=listener))
            position += 1
    return result


def playlist_item_rows(root: Path, playlist_id: str, snapshot_id: str, loaded_at: datetime,
                       listener: str = DEFAULT_LISTENER) -> Rows:
    """One row per entry of a playlist's landed items at `snapshot_id`, in the playlist's order."""
    result = Rows()
    folder = items_folder(root, playlist_id, snapshot_id)
    position = 0  # counted across the pages in order (an answer's own offset could repeat itself)
    for page in sorted(folder.glob("page_*.json")):
        answer = _json(page, result)
        if not isinstance(answer, dict):
            continue
        for entry in answer.get("items") or []:
            entry = entry if isinstance(entry, dict) else {}
            item = entry["item"] if "item" in entry else entry.get("track")
            item = item if isinstance(item, dict) else {}
            album = item.get("album") if isinstance(item.get("album"), dict) else {}
            external = item.get("external_ids") if isinstance(item.get("external_ids"), dict) else {}
            is_local = bool(entry.get("is_local") is True or item.get("is_local") is True)
            result.rows.append(PLAYLIST_ITEMS.row(
                playlist_id=playlist_id, snapshot_id=snapshot_id, position=position,
                item_type=_text(item.get("type")), item_id=_text(item.get("id")), item_uri=_text(item.get("uri")),
                item_name=_text(item.get("name")), artists_json=_artists(item), album_name=_text(album.get("name")),
                duration_ms=_count(item.get("duration_ms")),
                isrc=_text(external.get("isrc")), added_at=_timestamp(entry.get("added_at")), is_local=is_local,
                is_playable=item.get("is_playable") if isinstance(item.get("is_playable"), bool) else None,
                _landed_file=f"playlist_items/{playlist_id}/{folder.name}/{page.name}", _loaded_at=loaded_at, listener=listener))
            position += 1
    return result
