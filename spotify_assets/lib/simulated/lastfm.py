"""A simulated Last.fm web service on 127.0.0.1 speaking what pylast asks for (form POSTs, XML answers): where the demo
gets its genres, and what the tests run the real client against.

Knows tracks (listeners, playcount, duration, weighted tags) and artists (weighted tags); answers
error 6 for the unknown (with HTTP 200, as Last.fm does), 10 for a wrong API key, and takes faults per
method: Last.fm error codes with an HTTP status (29 with 429, 11/16 with 503 or 200), malformed bodies,
slow answers.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from spotify_assets.lib.simulated.loopback import LoopbackService, answer


@dataclass
class LastfmFault:
    code: int | None = 11  # a Last.fm error code, or None with `body`
    http_status: int = 200
    body: bytes | None = None
    delay_seconds: float = 0.0
    echo: bool = False  # the error message repeats the request's form (api_key included), as an echoing proxy would
    retry_after: str | None = None  # a Retry-After header with the answer


@dataclass
class SimulatedTrack:
    listeners: int = 1000
    playcount: int = 5000
    duration_ms: int = 200_000
    tags: list[tuple[str, int]] = field(default_factory=list)


class SimulatedLastfm(LoopbackService):
    path = "/2.0/"

    def __init__(self, api_key: str = "fake-lastfm-key"):
        self.api_key = api_key
        self.tracks: dict[tuple[str, str], SimulatedTrack] = {}
        self.artists: dict[str, list[tuple[str, int]]] = {}
        self.faults: dict[str, deque[LastfmFault]] = defaultdict(deque)
        self.requests: list[dict] = []  # form fields of every request (api_key included: for assertions only)
        self.user_agents: list[str] = []

    def inject(self, method: str, *faults: LastfmFault) -> None:
        self.faults[method].extend(faults)

    def calls(self, method: str | None = None) -> int:
        return sum(1 for r in self.requests if method is None or r.get("method") == method)

    def answer(self, form: dict) -> str:
        if form.get("api_key") != self.api_key:
            return _error(10, "Invalid API key - You must be granted a valid key by last.fm")
        method = form.get("method", "")
        artist = form.get("artist", "").strip().lower()
        if method in ("track.getInfo", "track.getTopTags"):
            track = self.tracks.get((artist, form.get("track", "").strip().lower()))
            if track is None:
                return _error(6, "Track not found")
            if method == "track.getTopTags":
                return _ok(_toptags(track.tags, f' artist="{escape(form.get("artist", ""))}"'))
            inline = "".join(f"<tag><name>{escape(n)}</name><url>https://www.last.fm/tag/{escape(n)}</url></tag>"
                             for n, _ in track.tags[:5])
            return _ok(f"<track><name>{escape(form.get('track', ''))}</name><duration>{track.duration_ms}</duration>"
                       f"<listeners>{track.listeners}</listeners><playcount>{track.playcount}</playcount>"
                       f"<artist><name>{escape(form.get('artist', ''))}</name></artist>"
                       + (f"<toptags>{inline}</toptags>" if track.tags else "") + "</track>")
        if method == "artist.getTopTags":
            tags = self.artists.get(artist)
            if tags is None:
                return _error(6, "The artist you supplied could not be found")
            return _ok(_toptags(tags, f' artist="{escape(form.get("artist", ""))}"'))
        return _error(3, "Invalid Method - No method with that name in this package")


def _ok(inner: str) -> str:
    return f'<?xml version="1.0" encoding="utf-8"?>\n<lfm status="ok">{inner}</lfm>'


def _error(code: int, message: str) -> str:
    return f'<?xml version="1.0" encoding="utf-8"?>\n<lfm status="failed"><error code="{code}">{escape(message)}</error></lfm>'


def _toptags(tags: list[tuple[str, int]], attributes: str) -> str:
    body = "".join(f"<tag><count>{count}</count><name>{escape(name)}</name><url>https://www.last.fm/tag/x</url></tag>"
                   for name, count in tags)
    return f"<toptags{attributes}>{body}</toptags>"


class _Handler(BaseHTTPRequestHandler):
    fake: SimulatedLastfm

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: bytes, retry_after: str | None = None) -> None:
        answer(self, status, body, {"Content-Type": "text/xml; charset=utf-8",
                                    **({"Retry-After": retry_after} if retry_after is not None else {})})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length).decode()
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        self.fake.requests.append(form)
        self.fake.user_agents.append(self.headers.get("User-Agent", ""))
        queue = self.fake.faults.get(form.get("method", ""))
        if queue:
            fault = queue.popleft()
            if fault.delay_seconds:
                time.sleep(fault.delay_seconds)
            message = f"{self.headers}\n{raw}" if fault.echo else f"fault {fault.code}"
            body = fault.body if fault.body is not None else _error(fault.code, message).encode()
            return self._send(fault.http_status, body, fault.retry_after)
        self._send(200, self.fake.answer(form).encode())


SimulatedLastfm.handler = _Handler


def simulated_lastfm_for(history) -> SimulatedLastfm:
    """A simulated Last.fm that knows the synthetic history's tracks and artists as Last.fm would: tagged in several
    spellings, with noise, some unknown (lib/synthetic/tags.py)."""
    from spotify_assets.lib.synthetic.tags import artist_tags, track_tags

    service = SimulatedLastfm()
    for play in history.plays:
        if play.kind != "music":
            continue
        tags = track_tags(play.item.artist, play.item.name)
        if tags is not None:
            service.tracks[(play.item.artist.lower(), play.item.name.lower())] = SimulatedTrack(tags=tags)
        artist = artist_tags(play.item.artist)
        if artist is not None:
            service.artists[play.item.artist.lower()] = artist
    return service
