"""A made-up music catalog: artists with a long tail of popularity, albums, singles, shows and books.

Names mix ASCII and non-ASCII (accents, Cyrillic, Japanese) so identity rules (NFC, casefold) are
exercised. Some songs exist twice, on an album and as a single, with different URIs and one name.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import date

_SYLLABLES = ["la", "mo", "ri", "ven", "tor", "sa", "ki", "del", "nor", "fa", "lu", "zen", "mar", "qui", "bo", "ra"]
_WORDS = ["Night", "Summer", "Echo", "River", "Glass", "Paper", "Golden", "Static", "Velvet", "Northern",
          "Lights", "Heart", "Silence", "Motion", "Ocean", "Fire", "Ghost", "Signal", "Dream", "Avenue"]
# Non-ASCII names, written in NFC here; exports may carry them decomposed (NFD).
_INTERNATIONAL_ARTISTS = ["Ólöf Sigurðardóttir", "Zoë & the Café", "東京スカイライン", "Мария Соколова",
                          "Jürgen Größ", "Beyoncé Tribute Band", "Sigur Ræða", "Niño Bravo Jr.",
                          "Ångström Collective", "İstanbul Ekspres"]
_INTERNATIONAL_WORDS = ["Café", "Über", "Señal", "Ночь", "夜明け", "Fjörður", "Déjà Vu", "Naïve"]


@dataclass(frozen=True)
class Track:
    uri: str
    name: str
    artist: str
    album: str
    duration_ms: int
    single_uri: str | None  # the same song released again as a single
    isrc: str
    release_date: str = "2020-01-01"  # the album's (ISO date)


@dataclass(frozen=True)
class Episode:
    uri: str
    name: str
    show: str
    duration_ms: int
    video: bool


@dataclass(frozen=True)
class Chapter:
    uri: str
    book_uri: str
    title: str
    book: str
    author: str
    duration_ms: int


def _uri(rng: random.Random, kind: str) -> str:
    return f"spotify:{kind}:" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(22))


def _release_date(artist: str, album: str) -> str:
    """An album's release date, mostly recent, some decades old; drawn from its own seed, so adding it left every
    other draw of the catalog and the history as it was."""
    own = random.Random(f"{artist}\x1f{album}")
    released = date(max(1958, 2024 - int(own.expovariate(1 / 9))), own.randint(1, 12), own.randint(1, 28))
    return released.isoformat()


def _title(rng: random.Random) -> str:
    words = rng.sample(_WORDS, rng.choice([1, 2, 2, 3]))
    if rng.random() < 0.08:
        words.append(rng.choice(_INTERNATIONAL_WORDS))
    return " ".join(words)


@dataclass
class Catalog:
    tracks: list[Track]
    track_weights: list[float]
    episodes: list[Episode]
    chapters: list[Chapter]

    @classmethod
    def build(cls, rng: random.Random, artist_count: int) -> "Catalog":
        artists = list(_INTERNATIONAL_ARTISTS)
        seen = set(artists)
        while len(artists) < artist_count:
            name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
            if rng.random() < 0.3:
                name = f"The {name}s"
            elif rng.random() < 0.2:
                name = f"{name} {rng.choice(_WORDS)}"
            if name not in seen:
                seen.add(name)
                artists.append(name)
        rng.shuffle(artists)
        tracks: list[Track] = []
        weights: list[float] = []
        for rank, artist in enumerate(artists, start=1):
            artist_weight = 1.0 / rank**1.1  # Zipf-like: a few favourites, a long tail
            for _ in range(rng.randint(1, 3)):
                album = _title(rng)
                album_tracks = rng.randint(4, 10)
                for position in range(album_tracks):
                    name = _title(rng)
                    single = _uri(rng, "track") if position == 0 and rng.random() < 0.5 else None
                    tracks.append(Track(
                        uri=_uri(rng, "track"), name=name, artist=artist, album=album,
                        duration_ms=rng.randint(120_000, 330_000), single_uri=single,
                        isrc=f"QZ{rng.randint(0, 99):02d}{rng.randint(0, 9_999_999):07d}",
                        release_date=_release_date(artist, album),
                    ))
                    weights.append(artist_weight / (1 + position * 0.35))
        episodes = [
            Episode(_uri(rng, "episode"), f"{show} #{number}", show, rng.randint(900_000, 3_600_000), video=show.endswith("TV"))
            for show in ("Daily Signal", "Café Gespräche", "The Long Interview", "Synth Talk TV")
            for number in range(1, 41)
        ]
        chapters = []
        for book, author in (("The Glass River", "Ada Lindqvist"), ("Ночь и город", "Pavel Orlov")):
            book_uri = _uri(rng, "audiobook")
            chapters += [
                Chapter(_uri(rng, "chapter"), book_uri, f"Chapter {n}", book, author, rng.randint(600_000, 1_800_000))
                for n in range(1, 25)
            ]
        return cls(tracks, weights, episodes, chapters)
