"""A small Spotify Web API client on httpx: refresh-token auth, retries, and errors a listener can act on.

- The access token (1 h) is cached until a minute before it expires; a 401 triggers one refresh and
  one retry. Refresh uses the Basic header (client id and secret) or, for PKCE apps without a secret,
  the client id in the body. A new refresh token in the answer replaces the old one (and is handed to
  `on_refresh_token`, so it can be stored); otherwise the old one is kept.
- 429: waits `Retry-After` (any case; missing, 0 or garbage fall back to backoff), capped.
  5xx, timeouts, connection errors and malformed JSON: exponential backoff. Retries are bounded.
- Secrets never appear in messages: errors name the endpoint, the status and Spotify's own message.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from spotify_assets.lib.http_retry import (
    GaveUp,
    RetryPolicy,
    Transient,
    async_call_with_retries,
    async_send,
    call_with_retries,
    send,
)
from spotify_assets.lib.redaction import Redactor

RECENTLY_PLAYED_SCOPE = "user-read-recently-played"
TOP_ITEMS_SCOPE = "user-top-read"
PLAYLIST_SCOPES = ("playlist-read-private", "playlist-read-collaborative")
# What `spotify-assets auth` asks for: the recently-played poll's scope, then what Spotify's view of you needs.
SCOPES = (RECENTLY_PLAYED_SCOPE, TOP_ITEMS_SCOPE, *PLAYLIST_SCOPES)
USER_AGENT = "spotify-assets (personal listening history)"


class SpotifyError(Exception):
    """Spotify could not be reached or kept failing."""


class SpotifyAuthError(SpotifyError):
    """The credentials need the listener's attention (expired, revoked, wrong, or missing a scope)."""


class SpotifyMissingScope(SpotifyAuthError):
    """The authorization does not grant a scope an endpoint needs."""

    def __init__(self, scope: str):
        self.scope = scope
        super().__init__(f"the authorization lacks the scope {scope}: run `spotify-assets auth` again, which asks "
                         f"for it")


class SpotifyForbidden(SpotifyAuthError):
    """403 for a reason other than a scope: the app may not read this object (or not serve this listener)."""


class SpotifyNotFound(SpotifyError):
    """The requested object does not exist (an answer worth caching)."""


def _spotify_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", response.reason_phrase))
    if isinstance(error, str):
        return f"{error}: {body.get('error_description', '')}".strip(": ")
    return response.reason_phrase


class _Authorization:
    """What the blocking and the async client share: the credentials, the access token and its expiry, the granted
    scopes, the redaction of every secret, and what each answer of Spotify's means."""

    def __init__(self, client_id: str, refresh_token: str, client_secret: str | None, api_base_url: str,
                 accounts_base_url: str, on_refresh_token: Callable[[str], None] | None):
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._api = api_base_url.rstrip("/")
        self._accounts = accounts_base_url.rstrip("/")
        self._on_refresh_token = on_refresh_token
        self._access_token: str | None = None
        self._expires_at = 0.0
        self.granted_scopes: frozenset[str] | None = None  # as the newest token answer lists them, if it does
        # Everything from outside (error messages, stored answers) passes through it: see redaction.py.
        self._redact = Redactor(refresh_token)
        self._redact.add_basic(client_id, client_secret)
        self.requests_made = 0

    def _token_needed(self) -> bool:
        return self._access_token is None or time.monotonic() >= self._expires_at

    def _token_request(self) -> tuple[str, dict, dict]:
        """The token endpoint, and the form and headers that refresh the access token."""
        data = {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
        headers = {}
        if self._client_secret:
            basic = base64.b64encode(f"{self._client_id}:{self._client_secret}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        else:  # PKCE: no secret, the client id travels in the body
            data["client_id"] = self._client_id
        return f"{self._accounts}/api/token", data, headers

    def _take_token(self, response: httpx.Response) -> None:
        """Keep the access token (and a rotated refresh token) of the token endpoint's answer, or raise what it means."""
        if response.status_code in (400, 401):
            message = self._message(response)
            if "invalid_grant" in message:
                raise SpotifyAuthError(
                    "Spotify rejected the refresh token (revoked, or older than 6 months): run `spotify-assets auth` "
                    f"again ({message})")
            raise SpotifyAuthError(f"Spotify rejected the app credentials (SPOTIFY_CLIENT_ID/SECRET): {message}")
        payload = self._json(response, "token refresh")
        try:
            self._access_token = str(payload["access_token"])
            self._redact.add(self._access_token)
            self._expires_at = time.monotonic() + float(payload.get("expires_in", 3600)) - 60
            if isinstance(payload.get("scope"), str):
                self.granted_scopes = frozenset(payload["scope"].split())
        except (KeyError, TypeError, ValueError):
            raise SpotifyError("token refresh: the answer has no access_token") from None
        new_refresh_token = payload.get("refresh_token")
        if new_refresh_token and new_refresh_token != self._refresh_token:
            self._refresh_token = str(new_refresh_token)
            self._redact.add(self._refresh_token)
            if self._on_refresh_token:
                self._on_refresh_token(self._refresh_token)

    def _refuse(self, response: httpx.Response, path: str, scope: str) -> None:
        """Raise what an API answer other than 2xx means (a 401 here came after one refresh already)."""
        if response.status_code == 401:
            raise SpotifyAuthError(f"{path}: Spotify rejected a freshly refreshed access token ({self._message(response)})")
        if response.status_code == 403:
            message = self._message(response)
            if "scope" in message.lower():
                raise SpotifyMissingScope(scope)
            raise SpotifyForbidden(f"{path}: forbidden ({message}); development-mode apps need the listener added "
                                   "as a user in the Spotify developer dashboard")
        if response.status_code == 404:
            raise SpotifyNotFound(f"{path}: not found")
        if response.status_code >= 400:
            raise SpotifyError(f"{path}: HTTP {response.status_code} ({self._message(response)})")

    def _redacted_json_response(self, response: httpx.Response) -> httpx.Response:
        """The answer with any credential an echoing server sent back taken out; a body that is not JSON is Transient."""
        try:
            response.json()
        except ValueError:
            raise Transient("bodies that are not JSON") from None
        return httpx.Response(response.status_code, headers=response.headers,
                              content=self._redact.bytes(response.content), request=response.request)

    @staticmethod
    def _json(response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise SpotifyError(f"{what}: Spotify answered HTTP {response.status_code} with a body that is not JSON") from None

    def _message(self, response: httpx.Response) -> str:
        """Spotify's own words about a failure, with any credential an echoing server sent back taken out."""
        return self._redact(_spotify_message(response))

    @staticmethod
    def _recently_played_params(after_ms: int | None, limit: int) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if after_ms is not None:
            params["after"] = after_ms
        return params


class SpotifyClient(_Authorization):
    def __init__(
        self,
        client_id: str,
        refresh_token: str,
        client_secret: str | None = None,
        api_base_url: str = "https://api.spotify.com",
        accounts_base_url: str = "https://accounts.spotify.com",
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        on_refresh_token: Callable[[str], None] | None = None,
        http: httpx.Client | None = None,
    ):
        super().__init__(client_id, refresh_token, client_secret, api_base_url, accounts_base_url, on_refresh_token)
        self._retry = retry
        self._sleep = sleep
        self._http = http or httpx.Client(timeout=retry.timeout_seconds, headers={"User-Agent": USER_AGENT})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "SpotifyClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ auth

    def _bearer(self) -> str:
        if self._token_needed():
            url, data, headers = self._token_request()
            self._take_token(self._send("POST", url, "token refresh", data=data, headers=headers))
        return f"Bearer {self._access_token}"

    # ------------------------------------------------------------------ transport

    def _send(self, method: str, url: str, what: str, **kwargs) -> httpx.Response:
        """One logical request, retried on 429, 5xx and network faults (http_retry.py). Other statuses return."""
        def attempt() -> httpx.Response:
            self.requests_made += 1
            return send(self._http, method, url, **kwargs)

        try:
            return call_with_retries(attempt, self._retry, self._sleep)
        except GaveUp as error:
            raise SpotifyError(f"{what}: {error}") from None

    def require_scope(self, scope: str) -> None:
        """Raise SpotifyMissingScope, before any API request, when the token answer lists its scopes without `scope`."""
        self._bearer()
        if self.granted_scopes is not None and scope not in self.granted_scopes:
            raise SpotifyMissingScope(scope)

    def get(self, path: str, params: dict | None = None) -> Any:
        """GET an API path; JSON of a 2xx answer. Malformed bodies count as a transient fault."""
        return self._json(self.get_response(path, params), path)

    def get_response(self, path: str, params: dict | None = None, scope: str = RECENTLY_PLAYED_SCOPE) -> httpx.Response:
        """GET an API path; the 2xx response, whose body is known to be JSON (landing stores it as sent, with any
        credential an echoing server sent back taken out). A body that is not JSON is asked for again. `scope`: the
        one a 403 about scopes names."""
        try:
            return call_with_retries(lambda: self._redacted_json_response(self._authorized_get(path, params, scope)),
                                     self._retry, self._sleep, backoff_from=1)
        except GaveUp:
            raise SpotifyError(f"{path}: Spotify kept answering with bodies that are not JSON") from None

    def _authorized_get(self, path: str, params: dict | None, scope: str) -> httpx.Response:
        """The 2xx answer to a GET with a valid access token (refreshed once on a 401), or the error it means."""
        url = f"{self._api}{path}"
        for refreshed in (False, True):
            response = self._send("GET", url, path, params=params, headers={"Authorization": self._bearer()})
            if response.status_code != 401:
                break
            self._access_token = None  # expired or revoked access token: one refresh, one retry
        self._refuse(response, path, scope)
        return response

    # ------------------------------------------------------------------ endpoints

    def recently_played_response(self, after_ms: int | None = None, limit: int = 50) -> bytes:
        """The body of GET /v1/me/player/recently-played, unchanged."""
        return self.get_response("/v1/me/player/recently-played", self._recently_played_params(after_ms, limit)).content

    def recently_played(self, after_ms: int | None = None, limit: int = 50) -> dict:
        return json.loads(self.recently_played_response(after_ms, limit))

    def track(self, track_id: str) -> dict:
        return self.get(f"/v1/tracks/{track_id}")

    def top_items_response(self, item_type: str, time_range: str) -> bytes:
        """The body of GET /v1/me/top/{artists|tracks}?time_range=…&limit=50, unchanged (scope user-top-read)."""
        return self.get_response(f"/v1/me/top/{item_type}", {"time_range": time_range, "limit": 50},
                                 scope=TOP_ITEMS_SCOPE).content

    def profile_response(self) -> bytes:
        """The body of GET /v1/me (the listener's own user id tells their playlists from others')."""
        return self.get_response("/v1/me").content

    def playlists_page(self, offset: int, limit: int = 50) -> bytes:
        """One page of GET /v1/me/playlists, unchanged (scopes playlist-read-private and -collaborative)."""
        return self.get_response("/v1/me/playlists", {"offset": offset, "limit": limit}, scope=PLAYLIST_SCOPES[0]).content

    def playlist_items_page(self, playlist_id: str, offset: int, limit: int = 50) -> bytes:
        """One page of a playlist's items, unchanged: GET /v1/playlists/{id}/items, or where a server does not know
        that route (404) its former name /tracks, whose entries carry `track` where the new ones carry `item`."""
        params = {"offset": offset, "limit": limit, "additional_types": "track,episode"}
        try:
            return self.get_response(f"/v1/playlists/{playlist_id}/items", params, scope=PLAYLIST_SCOPES[0]).content
        except SpotifyNotFound:
            return self.get_response(f"/v1/playlists/{playlist_id}/tracks", params, scope=PLAYLIST_SCOPES[0]).content


class AsyncSpotifyClient(_Authorization):
    """The recently-played poll on httpx's async client, for polling many listeners at once: the caller's client and
    its `slots` (a semaphore) are shared by every listener, and a slot is held only while a request is on the wire, so
    a listener waiting out its own 429 or backoff holds nobody else up."""

    def __init__(self, http: httpx.AsyncClient, slots: asyncio.Semaphore, client_id: str, refresh_token: str,
                 client_secret: str | None = None, api_base_url: str = "https://api.spotify.com",
                 accounts_base_url: str = "https://accounts.spotify.com", retry: RetryPolicy = RetryPolicy(),
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 on_refresh_token: Callable[[str], None] | None = None):
        super().__init__(client_id, refresh_token, client_secret, api_base_url, accounts_base_url, on_refresh_token)
        self._http = http
        self._slots = slots
        self._retry = retry
        self._sleep = sleep

    async def _send(self, method: str, url: str, what: str, **kwargs) -> httpx.Response:
        async def attempt() -> httpx.Response:
            self.requests_made += 1
            async with self._slots:
                return await async_send(self._http, method, url, **kwargs)

        try:
            return await async_call_with_retries(attempt, self._retry, self._sleep)
        except GaveUp as error:
            raise SpotifyError(f"{what}: {error}") from None

    async def _bearer(self) -> str:
        if self._token_needed():
            url, data, headers = self._token_request()
            self._take_token(await self._send("POST", url, "token refresh", data=data, headers=headers))
        return f"Bearer {self._access_token}"

    async def get_response(self, path: str, params: dict | None = None,
                           scope: str = RECENTLY_PLAYED_SCOPE) -> httpx.Response:
        """`SpotifyClient.get_response`, awaited."""
        async def attempt() -> httpx.Response:
            url = f"{self._api}{path}"
            for refreshed in (False, True):
                response = await self._send("GET", url, path, params=params, headers={"Authorization": await self._bearer()})
                if response.status_code != 401:
                    break
                self._access_token = None  # expired or revoked access token: one refresh, one retry
            self._refuse(response, path, scope)
            return self._redacted_json_response(response)

        try:
            return await async_call_with_retries(attempt, self._retry, self._sleep, backoff_from=1)
        except GaveUp:
            raise SpotifyError(f"{path}: Spotify kept answering with bodies that are not JSON") from None

    async def recently_played_response(self, after_ms: int | None = None, limit: int = 50) -> bytes:
        """The body of GET /v1/me/player/recently-played, unchanged."""
        return (await self.get_response("/v1/me/player/recently-played",
                                        self._recently_played_params(after_ms, limit))).content
