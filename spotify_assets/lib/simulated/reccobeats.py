"""A simulated ReccoBeats on 127.0.0.1 (GET /v1/audio-features?ids=...), as the real one behaves where this project
depends on it: at most 40 ids a call (400 beyond), tracks without features left out of the answer, each feature set
naming its Spotify track in `href`, and faults queued per request (429 with Retry-After, 5xx, a body that is not JSON)."""

from __future__ import annotations

import json
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from spotify_assets.lib.simulated.loopback import LoopbackService, answer


class SimulatedReccoBeats(LoopbackService):
    def __init__(self, features: dict[str, dict] | None = None):
        self.features = features or {}  # Spotify id -> its feature values
        self.faults: deque[tuple[int, dict[str, str], bytes | None]] = deque()  # (status, headers, body)
        self.requests: list[list[str]] = []  # the ids of each request

    def inject(self, status: int, headers: dict[str, str] | None = None, body: bytes | None = None) -> None:
        self.faults.append((status, headers or {}, body))

    def audio_features(self, ids: list[str]) -> tuple[int, dict]:
        if not 1 <= len(ids) <= 40:
            return 400, {"error": "ids must hold between 1 and 40 ids"}
        content = [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, track_id)), "href": f"https://open.spotify.com/track/{track_id}",
                    **self.features[track_id]} for track_id in ids if track_id in self.features]
        return 200, {"content": content}


class _Handler(BaseHTTPRequestHandler):
    fake: SimulatedReccoBeats

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        parsed = urlparse(self.path)
        ids = [i for i in parse_qs(parsed.query).get("ids", [""])[0].split(",") if i]
        self.fake.requests.append(ids)
        if self.fake.faults:
            status, headers, body = self.fake.faults.popleft()
            return answer(self, status, body if body is not None else json.dumps({"error": status}).encode(),
                          {"Content-Type": "application/json", **headers})
        if parsed.path != "/v1/audio-features":
            return answer(self, 404, b'{"error": "not found"}', {"Content-Type": "application/json"})
        status, payload = self.fake.audio_features(ids)
        answer(self, status, json.dumps(payload).encode(), {"Content-Type": "application/json"})


SimulatedReccoBeats.handler = _Handler
