"""Synthetic Last.fm tags for the synthetic catalog, derived from names by hash (no random state, so the
history of a seed does not change): genres in several spellings, the noise people tag with, the
artist's own name, decade and nationality tags; some tracks tagged themselves, most inheriting their
artist's; some artists and tracks unknown to Last.fm.
"""

from __future__ import annotations

import hashlib

GENRE_SPELLINGS = {
    "hip hop": ["hip-hop", "Hip-Hop", "hip hop", "Hip Hop"],
    "electronic": ["electronic", "Electronic"],
    "indie rock": ["indie rock", "Indie Rock", "indie-rock"],
    "jazz": ["jazz", "Jazz"],
    "folk": ["folk", "Folk"],
    "synthpop": ["synthpop", "Synthpop"],
    "soul": ["soul", "Soul"],
    "metal": ["metal", "Metal"],
    "ambient": ["ambient", "Ambient"],
    "post rock": ["post-rock", "Post-Rock", "post rock"],
}
NOISE = ["seen live", "favorites", "Favourites", "spotify", "love", "awesome", "albums i own"]
DECADES = ["80s", "90s", "00s", "2010s"]
NATIONALITIES = ["german", "british", "american", "swedish", "icelandic", "japanese"]


def _pick(text: str, salt: str, options: list):
    digest = int(hashlib.sha256(f"{salt}:{text}".encode()).hexdigest(), 16)
    return options[digest % len(options)]


def _number(text: str, salt: str, low: int, high: int) -> int:
    return low + int(hashlib.sha256(f"{salt}:{text}".encode()).hexdigest(), 16) % (high - low + 1)


def artist_tags(artist: str) -> list[tuple[str, int]] | None:
    """None: Last.fm does not know the artist. Otherwise (tag, weight), most used first."""
    if _number(artist, "known", 0, 9) == 0:
        return None
    genres = list(GENRE_SPELLINGS)
    primary = _pick(artist, "genre", genres)
    tags = [(_pick(artist, "spelling", GENRE_SPELLINGS[primary]), 100)]
    if _number(artist, "second", 0, 1):
        secondary = _pick(artist, "genre2", [g for g in genres if g != primary])
        tags.append((_pick(artist, "spelling2", GENRE_SPELLINGS[secondary]), _number(artist, "weight2", 30, 80)))
    tags += [(_pick(artist, "noise", NOISE), 25), (artist, 20), (_pick(artist, "decade", DECADES), 15),
             (_pick(artist, "nation", NATIONALITIES), 10)]
    return sorted(tags, key=lambda tag: -tag[1])


def track_tags(artist: str, track: str) -> list[tuple[str, int]] | None:
    """None: Last.fm does not know the track. [] : known but untagged (inherits the artist's genres)."""
    key = f"{artist}\x1f{track}"
    roll = _number(key, "track", 0, 9)
    if roll == 0:
        return None
    if roll >= 4:
        return []
    genre = _pick(key, "genre", list(GENRE_SPELLINGS))
    return [(_pick(key, "spelling", GENRE_SPELLINGS[genre]), 100), (_pick(key, "noise", NOISE), 40)]

