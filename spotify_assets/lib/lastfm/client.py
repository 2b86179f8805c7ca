"""A Last.fm client on pylast: paced, retried, and with errors sorted into what to do about them.

- Error 6 (not found) is an answer, not a failure: `LastfmNotFound`, which callers cache.
- Errors 10 (invalid key) and 26 (suspended key) stop the run: `LastfmStop`, naming LASTFM_API_KEY.
- Errors 8, 11, 16, 29 (rate limit, with HTTP 429), HTTP 5xx, network errors, answers slower than the
  timeout and malformed bodies are retried with exponential backoff, a bounded number of times.
- Calls are paced to `requests_per_second` (default 4, under Last.fm's ~5/s), and every request carries
  an identifying User-Agent. The API key travels in the POST body only, never in a URL or a message.
pylast always speaks HTTPS to `ws_server`; an `http://` base URL (the fake server in tests) is served by a
transport that sends the same request over plain HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx2
import pylast

from spotify_assets.lib.http_retry import (
    GaveUp,
    RetryPolicy,
    Transient,
    call_with_retries,
    retry_after_seconds,
)
from spotify_assets.lib.redaction import Redactor

DEFAULT_BASE_URL = "https://ws.audioscrobbler.com/2.0/"
USER_AGENT = "spotify-assets/0.1 (personal listening-history warehouse; +https://github.com/)"
_RETRIED_CODES = {"8", "11", "16", "29", "500", "502", "503", "504"}


class LastfmError(Exception):
    """Last.fm kept failing, or answered with an error this client does not retry."""


class LastfmNotFound(LastfmError):
    """Last.fm does not know the artist or track (error 6): cache it, do not ask again."""


class LastfmStop(LastfmError):
    """The API key is invalid or suspended (errors 10, 26): no further request can succeed."""


@dataclass(frozen=True)
class TrackInfo:
    listeners: int | None
    playcount: int | None
    duration_ms: int | None
    tags: list[tuple[str, int]] = field(default_factory=list)  # (tag, weight) as Last.fm ranks them
    answers: dict[str, str] = field(default_factory=dict)  # method -> the XML Last.fm sent, for landing


class _Transport(httpx2.BaseTransport):
    """pylast's requests go through this transport (its documented `proxy` argument takes one): it sends them to the
    configured base URL (a fake server in tests, plain http there), adds the User-Agent, counts requests and keeps each
    successful answer's XML (landing stores it as sent)."""

    def __init__(self, user_agent: str, base_url: str, timeout_seconds: float, redact: Redactor):
        self._inner = httpx2.HTTPTransport()
        self._timeout = {"connect": timeout_seconds, "read": timeout_seconds, "write": timeout_seconds,
                         "pool": timeout_seconds}
        self._user_agent = user_agent
        self._base = httpx2.URL(base_url)
        self._redact = redact
        self.requests = 0
        self.answers: dict[str, str] = {}
        self.retry_after: float | None = None  # what the latest answer's Retry-After asked for

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests += 1
        self.retry_after = None
        request.headers["User-Agent"] = self._user_agent
        request.extensions["timeout"] = self._timeout  # pylast's own is fixed at 20 s
        request.url = request.url.copy_with(scheme=self._base.scheme, host=self._base.host, port=self._base.port,
                                            path=self._base.path)
        response = self._inner.handle_request(request)
        self.retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        # An answer never carries the API key on, even from a server that echoes the request (redaction.py).
        content = self._redact.bytes(response.read())
        method = parse_qs(request.content.decode(errors="replace")).get("method", ["?"])[0]
        if response.status_code == 200:
            self.answers[method] = content.decode("utf-8", errors="replace")
        return httpx2.Response(response.status_code, headers=response.headers, content=content, request=request)


class _MemoryCache(dict):
    """pylast's cache protocol in memory: lets one track.getInfo answer serve several getters."""

    def set_xml(self, key: str, xml: str) -> None:
        self[key] = xml

    def get_xml(self, key: str) -> str:
        return self[key]


def _number(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


class LastfmClient:
    def __init__(self, api_key: str, base_url: str = DEFAULT_BASE_URL, requests_per_second: float = 4.0,
                 max_attempts: int = 5, backoff_seconds: float = 1.0, max_wait_seconds: float = 60.0,
                 timeout_seconds: float = 20.0, sleep: Callable[[float], None] = time.sleep):
        self._redact = Redactor(api_key)
        self._transport = _Transport(USER_AGENT, base_url if urlparse(base_url).path not in ("", "/") else
                                     base_url.rstrip("/") + "/2.0/", timeout_seconds=timeout_seconds, redact=self._redact)
        self._network = pylast.LastFMNetwork(api_key=api_key, proxy={"https://": self._transport})
        self._interval = 1.0 / requests_per_second
        self._retry = RetryPolicy(max_attempts=max_attempts, backoff_seconds=backoff_seconds,
                                  max_wait_seconds=max_wait_seconds, timeout_seconds=timeout_seconds)
        self._sleep = sleep
        self._last_call = 0.0

    @property
    def requests_made(self) -> int:
        return self._transport.requests

    def _paced(self, call: Callable[[], Any]) -> Any:
        wait = self._last_call + self._interval - time.monotonic()
        if wait > 0:
            self._sleep(wait)
        self._last_call = time.monotonic()
        return call()

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        """One Last.fm call, paced, retried on what is worth another attempt (http_retry.py)."""
        def attempt() -> Any:
            try:
                return self._paced(call)
            except pylast.WSError as error:
                code = str(error.get_id())
                if code == "6":
                    raise LastfmNotFound(f"{what}: not found on Last.fm") from None
                if code in ("10", "26"):
                    state = "invalid" if code == "10" else "suspended"
                    raise LastfmStop(f"Last.fm says the API key is {state} (error {code}): check LASTFM_API_KEY") from None
                if code not in _RETRIED_CODES:
                    raise LastfmError(self._redact(f"{what}: Last.fm error {code} ({error.details})")) from None
                raise Transient(f"error {code}", self._transport.retry_after) from None
            except pylast.MalformedResponseError:
                raise Transient("a malformed answer", self._transport.retry_after) from None
            except pylast.NetworkError:
                raise Transient("a network error", self._transport.retry_after) from None

        try:
            return call_with_retries(attempt, self._retry, self._sleep)
        except GaveUp as error:
            raise LastfmError(f"{what}: {error}") from None

    def track_info(self, artist: str, title: str) -> TrackInfo:
        """track.getInfo (listeners, playcount, duration) and track.getTopTags (weighted tags)."""
        self._transport.answers = {}
        self._network.cache_backend = _MemoryCache()  # the getters below share one getInfo answer
        track = self._network.get_track(artist, title)
        what = f"track {artist} - {title}"
        listeners = self._call(what, track.get_listener_count)
        playcount = self._call(what, track.get_playcount)
        duration = self._call(what, track.get_duration)
        self._network.cache_backend = None
        tags = self._call(what, track.get_top_tags)
        return TrackInfo(_number(listeners), _number(playcount), _number(duration) or None,
                         [(top.item.get_name(), _number(top.weight) or 0) for top in tags], dict(self._transport.answers))

    def artist_tags(self, name: str) -> tuple[list[tuple[str, int]], str]:
        """artist.getTopTags: ((tag, weight) most used first, the XML Last.fm sent)."""
        self._transport.answers = {}
        artist = self._network.get_artist(name)
        tags = self._call(f"artist {name}", artist.get_top_tags)
        return [(top.item.get_name(), _number(top.weight) or 0) for top in tags], self._transport.answers.get("artist.getTopTags", "")
