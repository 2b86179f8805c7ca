"""The one-time authorization of the listener's own Spotify app (authorization-code flow).

The listener opens the printed URL, approves the scopes (user-read-recently-played for the poll; user-top-read,
playlist-read-private and playlist-read-collaborative for Spotify's top lists and the playlists), and Spotify
redirects the browser to
http://127.0.0.1:<port>/callback, where a one-request server takes the code. The code is exchanged for
a refresh token, which is stored with the app's id (and secret) in `$SPOTIFY_DATA_DIR/spotify.env`,
mode 0600; the command line loads that file into its environment, so EnvVar finds the values.
Apps without a client secret use PKCE (code verifier and S256 challenge).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import httpx

from spotify_assets.lib.configuration import read_credentials, write_credentials
from spotify_assets.lib.redaction import Redactor
from spotify_assets.lib.spotify_api.client import (
    RECENTLY_PLAYED_SCOPE,
    SCOPES,
    SpotifyAuthError,
)


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    redirect_uri: str
    code_verifier: str | None


def authorization_request(client_id: str, redirect_uri: str, accounts_base_url: str, pkce: bool) -> AuthorizationRequest:
    state = secrets.token_urlsafe(16)
    params = {"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri,
              "scope": " ".join(SCOPES), "state": state}
    verifier = None
    if pkce:
        verifier = secrets.token_urlsafe(64)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        params |= {"code_challenge_method": "S256", "code_challenge": challenge}
    return AuthorizationRequest(f"{accounts_base_url.rstrip('/')}/authorize?{urlencode(params)}", state, redirect_uri, verifier)


def wait_for_code(request: AuthorizationRequest, timeout_seconds: float = 300) -> str:
    """Serve the redirect URI on 127.0.0.1 until Spotify's redirect arrives; return the code."""
    target = urlparse(request.redirect_uri)
    received: dict[str, str] = {}

    class Callback(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            if parsed.path != target.path:
                self.send_response(404)
                self.end_headers()
                return
            received.update({k: v[0] for k, v in parse_qs(parsed.query).items()})
            page = b"<html><body><p>spotify-assets is authorized. You can close this tab.</p></body></html>"
            if "error" in received:
                page = b"<html><body><p>Authorization was not granted. See the terminal.</p></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

    with HTTPServer((target.hostname or "127.0.0.1", target.port or 80), Callback) as server:
        server.timeout = timeout_seconds
        while not received:
            server.handle_request()
            if not received:
                raise SpotifyAuthError(f"no redirect reached {request.redirect_uri} within {timeout_seconds:.0f} s")
    if "error" in received:
        raise SpotifyAuthError(f"Spotify did not authorize the app: {received['error']}")
    if received.get("state") != request.state:
        raise SpotifyAuthError("the redirect's state does not match this request (a stale or foreign redirect)")
    if "code" not in received:
        raise SpotifyAuthError("the redirect carried no authorization code")
    return received["code"]


def exchange_code(request: AuthorizationRequest, code: str, client_id: str, client_secret: str | None,
                  accounts_base_url: str) -> tuple[str, list[str]]:
    """Trade the code for tokens; returns the refresh token and the scopes of SCOPES the listener did not grant
    (the recently-played one is required)."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": request.redirect_uri}
    headers = {}
    if client_secret:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    else:
        data |= {"client_id": client_id, "code_verifier": request.code_verifier or ""}
    response = httpx.post(f"{accounts_base_url.rstrip('/')}/api/token", data=data, headers=headers, timeout=30)
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    redact = Redactor(code, request.code_verifier)  # what an echoing server could send back
    redact.add_basic(client_id, client_secret)
    if response.status_code != 200 or "refresh_token" not in payload:
        reason = payload.get("error_description") or payload.get("error") or f"HTTP {response.status_code}"
        raise SpotifyAuthError(redact(f"Spotify refused the authorization code ({reason})"))
    granted = str(payload.get("scope", ""))
    if RECENTLY_PLAYED_SCOPE not in granted.split():
        raise SpotifyAuthError(redact(f"the authorization lacks the scope {RECENTLY_PLAYED_SCOPE} "
                                      f"(granted: {granted or 'none'})"))
    return payload["refresh_token"], missing_scopes(granted)


def missing_scopes(granted: str) -> list[str]:
    """The scopes of SCOPES that a token answer's space-separated `scope` does not grant."""
    return [scope for scope in SCOPES if scope not in granted.split()]


def remember_rotated_refresh_token(path: Path, old_token: str, new_token: str) -> None:
    """Spotify may hand out a new refresh token (PKCE apps always do): keep the stored one current."""
    values = read_credentials(path)
    if values.get("SPOTIFY_REFRESH_TOKEN") == old_token:
        values["SPOTIFY_REFRESH_TOKEN"] = new_token
        write_credentials(path, values)
