"""Spotify's view of the listener, landed unchanged: its top lists and the listener's playlists (counting rules,
section 10). Everything lives under landing/spotify_view/:

    top_items/<date>/<artists|tracks>_<time_range>.json   GET /v1/me/top/{type}, one answer each, pulled once a day
    me.json                                               GET /v1/me, asked once: it tells your playlists from others'
    playlists/<date>/page_<offset>.json                   GET /v1/me/playlists, every page of the day's pull
    playlist_items/<playlist id>/<snapshot>/page_<offset>.json
                                                          a playlist's items at one snapshot_id, every page
    playlist_items/<playlist id>/<snapshot>.unreadable.json
                                                          Spotify would not give that snapshot's items (403, 404)
    missing_scopes.json                                   {scope: the day a pull found it missing}

A folder of pages appears whole (written under a temporary name, then renamed), so a folder that exists holds every
page: a pull killed at any moment leaves only a temporary folder, which the next pull replaces. A day already landed
is not asked again, and a playlist's items only when its snapshot_id is new: an unchanged listener with 200 playlists
costs 4 pages of playlists and 6 top lists a day.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from spotify_assets.lib.spotify_api.client import (
    PLAYLIST_SCOPES,
    TOP_ITEMS_SCOPE,
    SpotifyClient,
    SpotifyForbidden,
    SpotifyNotFound,
)

TIME_RANGES = ("short_term", "medium_term", "long_term")
ITEM_TYPES = ("artists", "tracks")
PAGE_SIZE = 50
# Spotify caps a playlist at 10,000 items and the list of playlists at 10,000 too: a server whose `next` never ends
# is not followed past them.
MAX_PAGES = 10_000 // PAGE_SIZE + 1
_SPOTIFY_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


def view_root(landing_path: Path) -> Path:
    return landing_path / "spotify_view"


def _write_atomically(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".part")
    temporary.write_bytes(body)
    temporary.replace(path)


def _pages(fetch, first_offset: int = 0) -> list[tuple[int, bytes]]:
    """(offset, body) of every page of a Spotify paging object, following `next` (bounded by MAX_PAGES)."""
    pages, offset = [], first_offset
    for _ in range(MAX_PAGES):
        body = fetch(offset)
        pages.append((offset, body))
        answer = json.loads(body)
        if not isinstance(answer, dict) or not answer.get("next") or not answer.get("items"):
            break
        offset += len(answer["items"])
    return pages


def _land_folder(folder: Path, pages: list[tuple[int, bytes]]) -> None:
    """Write the pages into `folder` at once: a temporary folder renamed into place."""
    temporary = folder.with_name(folder.name + ".part")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    for offset, body in pages:
        (temporary / f"page_{offset:05d}.json").write_bytes(body)
    shutil.rmtree(folder, ignore_errors=True)
    temporary.rename(folder)


def snapshot_folder_name(snapshot_id: str) -> str:
    """A file name for a snapshot_id (Spotify's are base64 and may hold '/' and '+')."""
    return hashlib.sha256(snapshot_id.encode()).hexdigest()[:24]


# ------------------------------------------------------------------ scopes the authorization lacks

def missing_scopes(root: Path) -> dict[str, str]:
    path = root / "missing_scopes.json"
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return {}


def record_missing_scope(root: Path, scope: str, day: date) -> None:
    _write_atomically(root / "missing_scopes.json", json.dumps({**missing_scopes(root), scope: day.isoformat()}).encode())


def forget_missing_scopes(settings) -> None:
    """A new authorization: the scopes are asked for again by the next pull."""
    (view_root(settings.landing_path) / "missing_scopes.json").unlink(missing_ok=True)


# ------------------------------------------------------------------ top lists

def top_items_folder(root: Path, day: date) -> Path:
    return root / "top_items" / day.isoformat()


def land_top_items(client: SpotifyClient, root: Path, day: date) -> int:
    """The six top lists of `day` (artists and tracks, three time ranges); those already landed are not asked again.
    Returns how many were asked for."""
    folder = top_items_folder(root, day)
    wanted = [(t, r) for t in ITEM_TYPES for r in TIME_RANGES if not (folder / f"{t}_{r}.json").exists()]
    if wanted:
        client.require_scope(TOP_ITEMS_SCOPE)
    for item_type, time_range in wanted:
        _write_atomically(folder / f"{item_type}_{time_range}.json", client.top_items_response(item_type, time_range))
    return len(wanted)


# ------------------------------------------------------------------ playlists

@dataclass
class PlaylistPull:
    pages: int = 0  # pages of the playlist list asked for today (0: the day's list had landed already)
    playlists: int = 0
    fetched: list[str] = field(default_factory=list)  # playlists whose items were asked for (a new snapshot)
    unchanged: int = 0
    unreadable: list[str] = field(default_factory=list)  # lines naming what Spotify would not give
    skipped: list[str] = field(default_factory=list)  # lines naming entries that are not playlists one can ask about


def playlists_folder(root: Path, day: date) -> Path:
    return root / "playlists" / day.isoformat()


def landed_playlists(folder: Path) -> list[dict]:
    """The playlist objects of a day's landed pages, in Spotify's order (entries that are not objects left out)."""
    playlists = []
    for page in sorted(folder.glob("page_*.json")):
        answer = json.loads(page.read_bytes())
        playlists += [p for p in (answer.get("items") or []) if isinstance(p, dict)]
    return playlists


def items_folder(root: Path, playlist_id: str, snapshot_id: str) -> Path:
    return root / "playlist_items" / playlist_id / snapshot_folder_name(snapshot_id)


def land_playlists(client: SpotifyClient, root: Path, day: date) -> PlaylistPull:
    """The day's list of playlists (once a day), then the items of every playlist whose snapshot_id has no landed items
    yet. A playlist Spotify will not open (403, 404) is noted and not asked about again until its snapshot changes."""
    pull = PlaylistPull()
    client.require_scope(PLAYLIST_SCOPES[0])
    if not (root / "me.json").exists():
        _write_atomically(root / "me.json", client.profile_response())
    folder = playlists_folder(root, day)
    if not folder.exists():
        pages = _pages(lambda offset: client.playlists_page(offset, PAGE_SIZE))
        _land_folder(folder, pages)
        pull.pages = len(pages)
    for position, playlist in enumerate(landed_playlists(folder)):
        playlist_id, snapshot_id = playlist.get("id"), playlist.get("snapshot_id")
        if not isinstance(playlist_id, str) or not _SPOTIFY_ID.match(playlist_id) or not isinstance(snapshot_id, str):
            pull.skipped.append(f"playlists/{day}: entry {position} has no usable id or snapshot_id; kept, items not asked")
            continue
        pull.playlists += 1
        target = items_folder(root, playlist_id, snapshot_id)
        unreadable = target.with_name(target.name + ".unreadable.json")
        if target.exists() or unreadable.exists():
            pull.unchanged += 1
            continue
        try:
            pages = _pages(lambda offset: client.playlist_items_page(playlist_id, offset, PAGE_SIZE))
        except (SpotifyForbidden, SpotifyNotFound) as error:
            reason = ("403: a development-mode app reads the items of your own and collaborative playlists only"
                      if isinstance(error, SpotifyForbidden) else "404: not found")
            _write_atomically(unreadable, json.dumps({"playlist_id": playlist_id, "reason": reason}).encode())
            pull.unreadable.append(f"playlist {playlist_id} ({str(playlist.get('name'))[:80]!r}): Spotify would not "
                                   f"give its items ({reason}); kept without them")
            continue
        _land_folder(target, pages)
        pull.fetched.append(playlist_id)
    return pull

