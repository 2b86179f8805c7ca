"""A simulated Spotify (Web API and accounts service) on 127.0.0.1: what `spotify-assets demo --live` polls, and what
the tests and benchmarks run the real clients against.

It behaves like the real one where this project depends on it: the token endpoint (Basic header or
PKCE client id, refresh-token rotation, invalid_grant, the granted scopes), recently-played keeping only the 50 most
recent plays up to a controllable clock with `after`/`before` cursors, GET /v1/tracks/{id}, the listener's top lists
(GET /v1/me/top/{type}), profile (GET /v1/me) and playlists (GET /v1/me/playlists, GET /v1/playlists/{id}/items or,
with `legacy_playlist_items`, only the former /tracks route and its `track` entries), paged with offset, limit and
next; scopes per route, and faults injected per route (status codes with any Retry-After spelling, slow answers,
malformed bodies, access tokens that expire). Besides its own listener it serves other accounts (`add_account`), each
with its own refresh token, plays and faults, as one app authorized by many listeners is served.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from spotify_assets.lib.simulated.loopback import LoopbackService, answer

WINDOW = 50  # Spotify keeps only the 50 most recent plays


@dataclass
class Fault:
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # None: a JSON error body for the status
    delay_seconds: float = 0.0
    expire_tokens: bool = False  # answer 401 "The access token expired" and forget every access token
    echo: bool = False  # the message repeats the request, headers and body (a proxy or debugging endpoint does)


def _playlist(playlist_id: str, name: str, entries: list[dict], owner_id: str, readable: bool,
              collaborative: bool) -> dict:
    return {"id": playlist_id, "name": name, "description": "", "collaborative": collaborative, "public": False,
            "owner": {"id": owner_id, "display_name": owner_id, "type": "user"},
            "snapshot_id": secrets.token_urlsafe(24) + "+/=", "type": "playlist",
            "uri": f"spotify:playlist:{playlist_id}", "entries": entries, "readable": readable}


@dataclass
class SimulatedAccount:
    """Another listener of the same app: its refresh token, its plays, its top lists and playlists, the scopes it
    granted (None: the app's), and faults only its requests meet."""

    refresh_token: str
    plays: list[tuple[int, dict]] = field(default_factory=list)
    faults: dict[str, deque[Fault]] = field(default_factory=lambda: defaultdict(deque))
    top_items: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    playlists: list[dict] = field(default_factory=list)
    scopes: tuple[str, ...] | None = None
    user_id: str = "another-listener"

    def add_play(self, played_at_ms: int, track: dict, context: dict | None = None) -> None:
        self.plays.append((played_at_ms, {"track": track, "played_at": iso_ms(played_at_ms), "context": context}))

    def add_playlist(self, playlist_id: str, name: str, entries: list[dict], owner_id: str | None = None,
                     readable: bool = True, collaborative: bool = False) -> dict:
        playlist = _playlist(playlist_id, name, entries, owner_id or self.user_id, readable, collaborative)
        self.playlists.append(playlist)
        return playlist

    def inject(self, route: str, *faults: Fault) -> None:
        self.faults[route].extend(faults)


def iso_ms(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


class SimulatedSpotify(LoopbackService):
    def __init__(self, client_id: str = "fake-client-id", client_secret: str | None = "fake-client-secret",
                 refresh_token: str = "fake-refresh-token", scopes: tuple[str, ...] = ("user-read-recently-played",),
                 token_lifetime_seconds: int = 3600, rotate_refresh_tokens: bool = False):
        self.client_id = client_id
        self.client_secret = client_secret
        self.valid_refresh_tokens = {refresh_token}
        self.scopes = scopes
        self.token_lifetime_seconds = token_lifetime_seconds
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.access_tokens: dict[str, float] = {}
        self.now_ms: int | None = None  # None: the real clock
        self.plays: list[tuple[int, dict]] = []  # (played_at ms, item) in any order
        self.tracks: dict[str, dict] = {}
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.requests: list[tuple[str, str, dict]] = []  # (route, path, query)
        self.authorization_codes: dict[str, tuple[str, str | None]] = {}  # code -> (redirect_uri, challenge)
        self.user_id = "simulated-listener"
        self.top_items: dict[tuple[str, str], list[dict]] = {}  # (artists|tracks, time_range) -> objects, best first
        self.playlists: list[dict] = []  # playlist objects with "entries" (and "readable": False for a 403)
        self.legacy_playlist_items = False  # serve only /v1/playlists/{id}/tracks, entries with `track` alone
        self.accounts: dict[str, SimulatedAccount] = {}  # by current refresh token
        self.access_owners: dict[str, SimulatedAccount] = {}  # by access token, for the other accounts
        self.in_flight = 0  # requests being answered now
        self.most_in_flight = 0  # the most ever answered at once
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ control

    def inject(self, route: str, *faults: Fault) -> None:
        """Queue faults for the next requests to a route: 'token', 'recently-played', 'tracks', 'me', 'top',
        'playlists', 'playlist-items' or 'playlist-tracks'."""
        self.faults[route].extend(faults)

    def add_playlist(self, playlist_id: str, name: str, entries: list[dict], owner_id: str | None = None,
                     readable: bool = True, collaborative: bool = False) -> dict:
        playlist = _playlist(playlist_id, name, entries, owner_id or self.user_id, readable, collaborative)
        self.playlists.append(playlist)
        return playlist

    def change_playlist(self, playlist_id: str, entries: list[dict]) -> None:
        """New items, and with them a new snapshot_id, as any edit of a playlist gives it."""
        playlist = next(p for p in self.playlists if p["id"] == playlist_id)
        playlist["entries"] = entries
        playlist["snapshot_id"] = secrets.token_urlsafe(24)

    def add_play(self, played_at_ms: int, track: dict, context: dict | None = None) -> None:
        with self._lock:
            self.plays.append((played_at_ms, {"track": track, "played_at": iso_ms(played_at_ms), "context": context}))

    def add_account(self, refresh_token: str) -> SimulatedAccount:
        """Another listener who authorized the same app."""
        account = SimulatedAccount(refresh_token, user_id=f"another-listener-{len(self.accounts) + 1}")
        with self._lock:
            self.accounts[refresh_token] = account
            self.valid_refresh_tokens.add(refresh_token)
        return account

    def revoke(self, account: SimulatedAccount) -> None:
        """That listener's refresh token stops working (revoked, or unused for months), and its access tokens too."""
        with self._lock:
            self.valid_refresh_tokens.discard(account.refresh_token)
            for token in [t for t, owner in self.access_owners.items() if owner is account]:
                self.access_tokens.pop(token, None)
                del self.access_owners[token]

    def approve(self, authorize_url: str) -> str:
        """What the listener's browser does at /authorize: returns the redirect URL with a fresh code."""
        from urllib.parse import urlencode

        query = {k: v[0] for k, v in parse_qs(urlparse(authorize_url).query).items()}
        if query.get("client_id") != self.client_id:
            return f"{query['redirect_uri']}?{urlencode({'error': 'invalid_client', 'state': query.get('state', '')})}"
        code = secrets.token_urlsafe(16)
        self.authorization_codes[code] = (query["redirect_uri"], query.get("code_challenge"))
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()

    def revoke_refresh_tokens(self) -> None:
        self.valid_refresh_tokens.clear()

    def answering(self, change: int) -> None:
        with self._lock:
            self.in_flight += change
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def calls(self, route: str) -> int:
        return sum(1 for r, _, _ in self.requests if r == route)

    def clock_ms(self) -> int:
        return self.now_ms if self.now_ms is not None else int(time.time() * 1000)

    # ------------------------------------------------------------------ behaviour

    def token(self, form: dict, authorization: str | None) -> tuple[int, dict]:
        client_id = form.get("client_id")
        if authorization and authorization.startswith("Basic "):
            try:
                client_id, secret = base64.b64decode(authorization[6:]).decode().split(":", 1)
            except ValueError:
                return 400, {"error": "invalid_client", "error_description": "Invalid client"}
            if client_id != self.client_id or secret != self.client_secret:
                return 400, {"error": "invalid_client", "error_description": "Invalid client secret"}
        elif client_id != self.client_id or self.client_secret is not None:
            return 400, {"error": "invalid_client", "error_description": "Invalid client"}
        if form.get("grant_type") == "authorization_code":
            return self._exchange_code(form)
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") not in self.valid_refresh_tokens:
            return 400, {"error": "invalid_grant", "error_description": "Invalid refresh token"}
        access_token = secrets.token_urlsafe(24)
        account = self.accounts.get(form["refresh_token"])
        with self._lock:
            self.access_tokens[access_token] = time.monotonic() + self.token_lifetime_seconds
            if account:
                self.access_owners[access_token] = account
        answer = {"access_token": access_token, "token_type": "Bearer", "expires_in": self.token_lifetime_seconds,
                  "scope": " ".join(account.scopes if account and account.scopes is not None else self.scopes)}
        if self.rotate_refresh_tokens:
            new_token = secrets.token_urlsafe(24)
            with self._lock:
                if account:  # only this listener's token turns over
                    self.valid_refresh_tokens.discard(account.refresh_token)
                    del self.accounts[account.refresh_token]
                    account.refresh_token = new_token
                    self.accounts[new_token] = account
                    self.valid_refresh_tokens.add(new_token)
                else:
                    self.valid_refresh_tokens = {new_token, *self.accounts}
            answer["refresh_token"] = new_token
        return 200, answer

    def _exchange_code(self, form: dict) -> tuple[int, dict]:
        redirect_uri, challenge = self.authorization_codes.pop(form.get("code", ""), (None, None))
        if redirect_uri is None or redirect_uri != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant", "error_description": "Invalid authorization code"}
        if challenge is not None:
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).decode().rstrip("=") != challenge:
                return 400, {"error": "invalid_grant", "error_description": "code_verifier was incorrect"}
        refresh_token = secrets.token_urlsafe(24)
        self.valid_refresh_tokens.add(refresh_token)
        access_token = secrets.token_urlsafe(24)
        self.access_tokens[access_token] = time.monotonic() + self.token_lifetime_seconds
        return 200, {"access_token": access_token, "token_type": "Bearer", "expires_in": self.token_lifetime_seconds,
                     "refresh_token": refresh_token, "scope": " ".join(self.scopes)}

    def authorized(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        expires = self.access_tokens.get(authorization[7:])
        return expires is not None and expires > time.monotonic()

    def recently_played(self, query: dict, account: SimulatedAccount | None = None) -> tuple[int, dict]:
        if "user-read-recently-played" not in self.scopes:
            return 403, {"error": {"status": 403, "message": "Insufficient client scope"}}
        if "after" in query and "before" in query:
            return 400, {"error": {"status": 400, "message": "Only one of after and before may be given"}}
        limit = min(int(query.get("limit", 20)), 50)
        now = self.clock_ms()
        with self._lock:
            plays = account.plays if account else self.plays
            window = sorted((p for p in plays if p[0] <= now), key=lambda p: p[0], reverse=True)[:WINDOW]
        if "after" in query:
            chosen = [p for p in window if p[0] > int(query["after"])][-limit:]  # the oldest after the cursor
        elif "before" in query:
            chosen = [p for p in window if p[0] < int(query["before"])][:limit]
        else:
            chosen = window[:limit]
        cursors = {"after": str(chosen[0][0]), "before": str(chosen[-1][0])} if chosen else None
        return 200, {"items": [item for _, item in chosen], "next": None, "cursors": cursors, "limit": limit,
                     "href": f"{self.base_url}/v1/me/player/recently-played"}

    def _page(self, items: list, query: dict, path: str, default_limit: int = 20) -> tuple[int, dict]:
        try:
            limit, offset = int(query.get("limit", default_limit)), int(query.get("offset", 0))
        except ValueError:
            return 400, {"error": {"status": 400, "message": "Invalid limit or offset"}}
        if not 1 <= limit <= 50 or offset < 0:
            return 400, {"error": {"status": 400, "message": "Invalid limit"}}
        following = offset + limit < len(items)
        return 200, {"href": f"{self.base_url}{path}?offset={offset}&limit={limit}", "items": items[offset:offset + limit],
                     "limit": limit, "offset": offset, "total": len(items),
                     "next": f"{self.base_url}{path}?offset={offset + limit}&limit={limit}" if following else None,
                     "previous": f"{self.base_url}{path}?offset={max(0, offset - limit)}&limit={limit}" if offset else None}

    def _lacks(self, scope: str, account: SimulatedAccount | None = None) -> tuple[int, dict] | None:
        granted = account.scopes if account and account.scopes is not None else self.scopes
        if scope not in granted:
            return 403, {"error": {"status": 403, "message": "Insufficient client scope"}}
        return None

    def me(self, account: SimulatedAccount | None = None) -> tuple[int, dict]:
        user_id = account.user_id if account else self.user_id
        return 200, {"id": user_id, "display_name": "Simulated Listener", "type": "user",
                     "uri": f"spotify:user:{user_id}", "followers": {"total": 3}}

    def top(self, item_type: str, query: dict, account: SimulatedAccount | None = None) -> tuple[int, dict]:
        if refused := self._lacks("user-top-read", account):
            return refused
        time_range = query.get("time_range", "medium_term")
        if item_type not in ("artists", "tracks") or time_range not in ("short_term", "medium_term", "long_term"):
            return 400, {"error": {"status": 400, "message": "Invalid time range"}}
        lists = account.top_items if account else self.top_items
        return self._page(lists.get((item_type, time_range), []), query, f"/v1/me/top/{item_type}")

    def _playlist_object(self, playlist: dict) -> dict:
        shown = {k: v for k, v in playlist.items() if k not in ("entries", "readable")}
        counted = {"href": f"{self.base_url}/v1/playlists/{playlist['id']}/tracks", "total": len(playlist["entries"])}
        if self.legacy_playlist_items:
            return shown | {"tracks": counted}
        return shown | {"items": counted | {"href": counted["href"].replace("/tracks", "/items")}, "tracks": counted}

    def my_playlists(self, query: dict, account: SimulatedAccount | None = None) -> tuple[int, dict]:
        if refused := self._lacks("playlist-read-private", account):
            return refused
        playlists = account.playlists if account else self.playlists
        return self._page([self._playlist_object(p) for p in playlists], query, "/v1/me/playlists")

    def playlist_items(self, playlist_id: str, route: str, query: dict,
                       account: SimulatedAccount | None = None) -> tuple[int, dict]:
        if refused := self._lacks("playlist-read-private", account):
            return refused
        if route == "playlist-items" and self.legacy_playlist_items:
            return 404, {"error": {"status": 404, "message": "Service not found"}}
        everyone = [self.playlists, *(a.playlists for a in self.accounts.values())]  # a playlist anybody can open
        playlist = next((p for playlists in everyone for p in playlists if p["id"] == playlist_id), None)
        if playlist is None:
            return 404, {"error": {"status": 404, "message": "Resource not found"}}
        if not playlist["readable"]:
            return 403, {"error": {"status": 403, "message": "Forbidden"}}
        entries = []
        for entry in playlist["entries"]:
            item = entry.get("item")
            if route == "playlist-tracks" or self.legacy_playlist_items:
                entries.append({k: v for k, v in entry.items() if k != "item"} | {"track": item})
            else:
                entries.append(entry | {"track": item})  # `track` still sent beside `item`, deprecated
        return self._page(entries, query, f"/v1/playlists/{playlist_id}/{route.split('-')[1]}", default_limit=50)

    def track(self, track_id: str) -> tuple[int, dict]:
        if track_id in self.tracks:
            return 200, self.tracks[track_id]
        if not track_id.isalnum():
            return 400, {"error": {"status": 400, "message": "invalid id"}}
        return 404, {"error": {"status": 404, "message": "Non existing id"}}


class _Handler(BaseHTTPRequestHandler):
    fake: SimulatedSpotify

    def log_message(self, *args) -> None:  # quiet
        pass

    def _answer(self, status: int, payload: dict | None = None, headers: dict | None = None, body: bytes | None = None) -> None:
        data = body if body is not None else json.dumps(payload).encode()
        answer(self, status, data, {"Content-Type": "application/json", **(headers or {})})

    def _route(self, path: str) -> str:
        if path == "/api/token":
            return "token"
        if path == "/v1/me/player/recently-played":
            return "recently-played"
        if path.startswith("/v1/tracks/"):
            return "tracks"
        if path == "/v1/me":
            return "me"
        if path.startswith("/v1/me/top/"):
            return "top"
        if path == "/v1/me/playlists":
            return "playlists"
        if path.startswith("/v1/playlists/") and path.endswith("/items"):
            return "playlist-items"
        if path.startswith("/v1/playlists/") and path.endswith("/tracks"):
            return "playlist-tracks"
        return "unknown"

    def _fault(self, route: str, body: str = "", account: SimulatedAccount | None = None) -> bool:
        queue = (account.faults if account else self.fake.faults).get(route)
        if not queue:
            return False
        fault = queue.popleft()
        if fault.delay_seconds:
            time.sleep(fault.delay_seconds)
        if fault.expire_tokens:
            self.fake.expire_access_tokens()
            self._answer(401, {"error": {"status": 401, "message": "The access token expired"}})
            return True
        message = f"fault {fault.status}"
        if fault.echo:
            message = f"{self.command} {self.path}\n{self.headers}\n{body}"
        payload = {"error": {"status": fault.status, "message": message}}
        if fault.echo and fault.status < 400:  # an echo that claims success: the request inside an answer
            payload = {"items": [], "cursors": None, "echo": message}
        self._answer(fault.status, payload, fault.headers, fault.body)
        return True

    def do_POST(self) -> None:
        self.fake.answering(+1)
        try:
            self._post()
        finally:
            self.fake.answering(-1)

    def do_GET(self) -> None:
        self.fake.answering(+1)
        try:
            self._get()
        finally:
            self.fake.answering(-1)

    def _post(self) -> None:
        parsed = urlparse(self.path)
        route = self._route(parsed.path)
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length).decode()
        form = {k: v[0] for k, v in parse_qs(body).items()}
        self.fake.requests.append((route, parsed.path, {}))
        if self._fault(route, body):
            return
        if route != "token":
            return self._answer(404, {"error": {"status": 404, "message": "Service not found"}})
        self._answer(*self.fake.token(form, self.headers.get("Authorization")))

    def _get(self) -> None:
        parsed = urlparse(self.path)
        route = self._route(parsed.path)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        self.fake.requests.append((route, parsed.path, query))
        if self._fault(route):
            return
        if not self.fake.authorized(self.headers.get("Authorization")):
            return self._answer(401, {"error": {"status": 401, "message": "The access token expired"}})
        account = self.fake.access_owners.get(self.headers["Authorization"][7:])
        if account and self._fault(route, account=account):
            return
        if route == "recently-played":
            return self._answer(*self.fake.recently_played(query, account))
        if route == "tracks":
            return self._answer(*self.fake.track(parsed.path.rsplit("/", 1)[-1]))
        if route == "me":
            return self._answer(*self.fake.me(account))
        if route == "top":
            return self._answer(*self.fake.top(parsed.path.rsplit("/", 1)[-1], query, account))
        if route == "playlists":
            return self._answer(*self.fake.my_playlists(query, account))
        if route in ("playlist-items", "playlist-tracks"):
            return self._answer(*self.fake.playlist_items(parsed.path.split("/")[3], route, query, account))
        self._answer(404, {"error": {"status": 404, "message": "Service not found"}})


SimulatedSpotify.handler = _Handler


def stable_id(text: str) -> str:
    """A 22-character base-62-looking id derived from text (the same in every process)."""
    return hashlib.sha256(text.encode()).hexdigest()[:22]


def track_object(track_id: str, name: str, artists: list[str], album: str, duration_ms: int, isrc: str,
                 release_date: str = "2020-01-01") -> dict:
    """A track as the Web API returns it (the fields this project reads, and their neighbours)."""
    artist_objects = [{"id": stable_id(a), "name": a, "uri": f"spotify:artist:{stable_id(a)}", "type": "artist"}
                      for a in artists]
    return {
        "id": track_id, "uri": f"spotify:track:{track_id}", "name": name, "duration_ms": duration_ms,
        "explicit": False, "is_local": False, "type": "track", "external_ids": {"isrc": isrc},
        "album": {"id": stable_id(artists[0] + album), "name": album, "release_date": release_date,
                  "release_date_precision": "day", "images": [], "artists": artist_objects[:1]},
        "artists": artist_objects,
    }


def playlist_entry(item: dict | None, added_at: str = "2024-01-01T12:00:00Z", is_local: bool = False) -> dict:
    """An entry of a playlist as GET /v1/playlists/{id}/items gives it (`item` None: a track Spotify no longer has)."""
    return {"added_at": added_at, "added_by": {"id": "simulated-listener", "type": "user"}, "is_local": is_local,
            "primary_color": None, "item": item}


def local_file(name: str, artist: str, album: str, duration_ms: int) -> dict:
    """A local file in a playlist: no id, a spotify:local: URI."""
    from urllib.parse import quote_plus

    return {"id": None, "uri": f"spotify:local:{quote_plus(artist)}:{quote_plus(album)}:{quote_plus(name)}:"
            f"{duration_ms // 1000}", "name": name, "type": "track", "is_local": True, "duration_ms": duration_ms,
            "artists": [{"id": None, "name": artist, "type": "artist", "uri": None}],
            "album": {"id": None, "name": album, "type": "album"}, "external_ids": {}}


def artist_object(name: str) -> dict:
    return {"id": stable_id(name), "name": name, "uri": f"spotify:artist:{stable_id(name)}", "type": "artist",
            "genres": [], "popularity": 50}


# What `spotify-assets demo --live` polls: the simulated clock of each poll (minutes before now) and the plays the
# listener makes since the poll before it. The last window holds more than the 50 plays Spotify keeps, as after a
# daemon stopped for an afternoon: that poll's gap check fails, naming the window.
LIVE_POLLS = ((360, 20), (240, 8), (0, 70))
DEMO_CREDENTIALS = {"SPOTIFY_CLIENT_ID": "demo-client-id", "SPOTIFY_CLIENT_SECRET": "demo-client-secret",
                    "SPOTIFY_REFRESH_TOKEN": "demo-refresh-token"}


def simulated_listener(history, now_ms: int, seed: int = 0) -> tuple[SimulatedSpotify, list[int]]:
    """A simulated Spotify on which the synthetic history's listener goes on listening in the hours before `now_ms`
    (tracks of the history, as often as they were played there), and the clock of each poll in LIVE_POLLS."""
    import random

    rng = random.Random(seed)
    music = [play for play in history.plays if play.kind == "music"]
    service = SimulatedSpotify(client_id=DEMO_CREDENTIALS["SPOTIFY_CLIENT_ID"],
                               client_secret=DEMO_CREDENTIALS["SPOTIFY_CLIENT_SECRET"],
                               refresh_token=DEMO_CREDENTIALS["SPOTIFY_REFRESH_TOKEN"])
    clocks, window_start = [], now_ms - (LIVE_POLLS[0][0] + 60) * 60_000
    for minutes_before, count in LIVE_POLLS:
        clock = now_ms - minutes_before * 60_000
        for number in range(count):
            play = rng.choice(music)
            track = play.item
            played_at = window_start + (number + 1) * (clock - window_start) // (count + 1)
            service.add_play(played_at, track_object(play.uri.rsplit(":", 1)[-1], track.name, [track.artist],
                                                     track.album, track.duration_ms, track.isrc, track.release_date))
        clocks.append(clock)
        window_start = clock
    return service, clocks


def simulated_catalog(history) -> SimulatedSpotify:
    """A simulated Spotify whose catalog (GET /v1/tracks/{id}) knows every track the synthetic history plays, under
    each of its URIs (album and single), and which has its own view of the listener (add_spotify_view), with the demo's
    credentials and every scope."""
    service = SimulatedSpotify(client_id=DEMO_CREDENTIALS["SPOTIFY_CLIENT_ID"],
                               client_secret=DEMO_CREDENTIALS["SPOTIFY_CLIENT_SECRET"],
                               refresh_token=DEMO_CREDENTIALS["SPOTIFY_REFRESH_TOKEN"],
                               scopes=("user-read-recently-played", "user-top-read", "playlist-read-private",
                                       "playlist-read-collaborative"))
    add_spotify_view(service, history)
    for track in {play.item for play in history.plays if play.kind == "music"}:
        for uri, album in ((track.uri, track.album), (track.single_uri, f"{track.name} - Single")):
            if uri:
                track_id = uri.rsplit(":", 1)[-1]
                service.tracks[track_id] = track_object(track_id, track.name, [track.artist], album, track.duration_ms,
                                                        track.isrc, track.release_date)
    return service


def add_spotify_view(service: SimulatedSpotify, history) -> None:
    """Spotify's view of the synthetic listener, as of the history's last day: top lists that follow the listener's
    streams over Spotify's windows with neighbours swapped and a few artists and tracks never played (Spotify weighs
    signals nobody sees), and playlists: two of the listener's own (favourites, a local file and a track Spotify no
    longer has among them), one with the rarely played tracks and a few never played, one Spotify made, a friend's,
    and one Spotify will not open."""
    import random
    from collections import Counter
    from datetime import timedelta

    rng = random.Random(history.seed)
    music = [play for play in history.plays if play.kind == "music"]
    tracks = {play.item.uri: play.item for play in music}

    def ranked(days: int | None, key) -> list:
        start = history.last_day - timedelta(days=days - 1) if days else None
        counts = Counter(key(play) for play in music if play.ms_played >= 30_000
                         and (start is None or play.ended_at.date() >= start))
        order = sorted(counts, key=lambda item: (-counts[item], str(item)))[:46]
        for index in range(1, len(order) - 1, 3):  # Spotify's own order: neighbours swapped
            order[index], order[index + 1] = order[index + 1], order[index]
        return order

    for time_range, days in (("short_term", 28), ("medium_term", 182), ("long_term", None)):
        artists = [artist_object(name) for name in ranked(days, lambda play: play.item.artist)]
        service.top_items[("artists", time_range)] = (artists + [artist_object(f"Chart Act {n}") for n in range(4)])[:50]
        top = [tracks[uri] for uri in ranked(days, lambda play: play.item.uri)]
        service.top_items[("tracks", time_range)] = ([
            track_object(t.uri.rsplit(":", 1)[-1], t.name, [t.artist], t.album, t.duration_ms, t.isrc, t.release_date)
            for t in top] + [track_object(stable_id(f"chart {n}"), f"Chart Hit {n}", [f"Chart Act {n}"], "Charts", 200_000,
                                          f"CHART{n:07d}") for n in range(4)])[:50]

    def entries(chosen, added: str = "2024-06-01T18:00:00Z") -> list[dict]:
        return [playlist_entry(track_object(t.uri.rsplit(":", 1)[-1], t.name, [t.artist], t.album, t.duration_ms,
                                            t.isrc, t.release_date), added) for t in chosen]

    counts = Counter(play.item.uri for play in music)
    by_plays = sorted(tracks.values(), key=lambda t: (-counts[t.uri], t.uri))
    unheard = [track_object(stable_id(f"unheard {n}"), f"Never Played {n}", ["Somebody New"], "Fresh", 180_000,
                            f"NEW{n:08d}") for n in range(5)]
    favourites = entries(by_plays[:40]) + [
        playlist_entry(local_file(by_plays[0].name, by_plays[0].artist, "My Rips", by_plays[0].duration_ms), is_local=True),
        playlist_entry(local_file("Voice Memo", "Me", "Recordings", 95_000), is_local=True),
        playlist_entry(None)]
    service.add_playlist(stable_id("favourites"), "Favourites", favourites)
    service.add_playlist(stable_id("rarities"), "Rarities", entries(by_plays[-25:]) + [playlist_entry(t) for t in unheard])
    service.add_playlist(stable_id("weekly"), "Discover Weekly", entries(rng.sample(by_plays, 10)) +
                         [playlist_entry(t) for t in unheard[:3]], owner_id="spotify")
    service.add_playlist(stable_id("friend"), "Road Trip (with a friend)", entries(rng.sample(by_plays, 20)),
                         owner_id="a-friend", collaborative=True)
    service.add_playlist(stable_id("closed"), "Somebody's Private Mix", entries(by_plays[:5]), owner_id="someone",
                         readable=False)
