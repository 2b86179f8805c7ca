"""ReccoBeats (https://reccobeats.com), free and keyless: the audio features of up to 40 Spotify tracks a call,
`GET /v1/audio-features?ids=...`. Tracks it has no features for are left out of the answer; each feature set names its
Spotify track in `href` (https://open.spotify.com/track/<id>). Its rate limits are internal and answered with 429.

Each answer lands unchanged in landing/reccobeats/<n>.json beside <n>.asked.json, the ids it was asked for, so no id is
asked twice (an id the answer left out has no features there). Lookups are bounded per run (the setting
`reccobeats_lookups_per_run`, 0 by default: the listener's track ids go nowhere until they turn it on), most streamed
first. The shared retry policy (lib/http_retry.py) retries 429 (after Retry-After), 5xx, timeouts and bodies that are not
JSON.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from spotify_assets.lib.http_retry import (
    GaveUp,
    RetryPolicy,
    Transient,
    call_with_retries,
    send,
)

BATCH = 40
_SPOTIFY_TRACK = re.compile(r"/track/([A-Za-z0-9]{1,64})")
FEATURES = ("danceability", "energy", "valence", "tempo", "acousticness", "instrumentalness", "speechiness",
            "liveness", "loudness")


class ReccoBeatsError(Exception):
    """ReccoBeats could not be reached or kept failing."""


class ReccoBeatsClient:
    def __init__(self, base_url: str, retry: RetryPolicy = RetryPolicy(), sleep: Callable[[float], None] = time.sleep,
                 http: httpx.Client | None = None):
        self._base = base_url.rstrip("/")
        self._retry = retry
        self._sleep = sleep
        self._http = http or httpx.Client(timeout=retry.timeout_seconds,
                                          headers={"User-Agent": "spotify-assets (personal listening history)"})
        self.requests_made = 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ReccoBeatsClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def audio_features_response(self, spotify_ids: list[str]) -> bytes:
        """The body of GET /v1/audio-features?ids=... for at most 40 ids, unchanged; it parses as JSON."""
        if not 1 <= len(spotify_ids) <= BATCH:
            raise ValueError(f"between 1 and {BATCH} ids a call")

        def attempt() -> bytes:
            self.requests_made += 1
            response = send(self._http, "GET", f"{self._base}/v1/audio-features",
                            params={"ids": ",".join(spotify_ids)})
            if response.status_code >= 400:
                raise ReccoBeatsError(f"/v1/audio-features: HTTP {response.status_code}")
            try:
                json.loads(response.content)
            except ValueError:
                raise Transient("a body that is not JSON") from None
            return response.content

        try:
            return call_with_retries(attempt, self._retry, self._sleep)
        except GaveUp as error:
            raise ReccoBeatsError(f"/v1/audio-features: {error}") from None


def feature_sets(body: bytes) -> list[dict]:
    """The feature sets of an answer (`content`, or a bare list), each with `spotify_id` from its href; sets without a
    Spotify track are left out."""
    answer = json.loads(body)
    items = answer.get("content") if isinstance(answer, dict) else answer
    sets = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        match = _SPOTIFY_TRACK.search(str(item.get("href") or ""))
        if match:
            sets.append({"spotify_id": match.group(1), "reccobeats_id": item.get("id"),
                         **{feature: item.get(feature) for feature in FEATURES}})
    return sets


def landed_answers(directory: Path) -> list[tuple[Path, list[str]]]:
    """(answer, the ids it was asked for) of every landed answer, oldest first."""
    answers = []
    for asked in sorted(directory.glob("*.asked.json")) if directory.exists() else []:
        answer = asked.with_name(asked.name.replace(".asked.json", ".json"))
        if answer.exists():
            answers.append((answer, json.loads(asked.read_text())))
    return answers


def asked_ids(directory: Path) -> set[str]:
    return {track_id for _, ids in landed_answers(directory) for track_id in ids}


def land_answers(client: ReccoBeatsClient, directory: Path, spotify_ids: list[str]) -> int:
    """Ask for `spotify_ids` in batches of 40 and land each answer (the answer first, then its list of ids: an answer
    without its list is asked again). Returns the feature sets received."""
    directory.mkdir(parents=True, exist_ok=True)
    number = len(landed_answers(directory))
    received = 0
    for start in range(0, len(spotify_ids), BATCH):
        batch = spotify_ids[start:start + BATCH]
        body = client.audio_features_response(batch)
        received += len(feature_sets(body))
        (directory / f"{number:06d}.json").write_bytes(body)
        (directory / f"{number:06d}.asked.json").write_text(json.dumps(batch))
        number += 1
    return received
