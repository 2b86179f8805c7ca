"""`spotify-assets auth` against the fake accounts service, and no secret anywhere it should not be."""

import os
import stat
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from conftest import cli_environment, free_port

from spotify_assets.cli.auth import authorize
from spotify_assets.cli.runs import CommandFailed
from spotify_assets.defs.spotify_api.resources import SpotifyApiResource
from spotify_assets.lib.configuration import read_credentials
from spotify_assets.lib.simulated.spotify import SimulatedSpotify, track_object
from spotify_assets.lib.spotify_api.client import SpotifyAuthError, SpotifyClient


def browser(fake: SimulatedSpotify, deny: bool = False):
    """Stands in for the listener's browser: approve at /authorize, then follow the redirect."""
    def open_url(url: str) -> None:
        if deny:
            query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
            target = f"{query['redirect_uri']}?error=access_denied&state={query['state']}"
        else:
            target = fake.approve(url)

        def follow() -> None:
            for _ in range(100):  # the callback server starts right after the URL is opened
                try:
                    httpx.get(target, timeout=2)
                    return
                except httpx.TransportError:
                    time.sleep(0.05)
        threading.Thread(target=follow, daemon=True).start()
    return open_url


@pytest.fixture
def accounts_env(monkeypatch):
    def configure(fake: SimulatedSpotify, secret: str | None):
        monkeypatch.setenv("SPOTIFY_ACCOUNTS_BASE_URL", fake.base_url)
        if secret is None:
            monkeypatch.delenv("SPOTIFY_CLIENT_SECRET", raising=False)
        else:
            monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", secret)
    return configure


def test_client_secret_flow_stores_working_credentials_readable_by_the_owner_only(settings, accounts_env, capsys):
    with SimulatedSpotify() as fake:
        accounts_env(fake, "fake-client-secret")
        authorize(settings, "fake-client-id", f"http://127.0.0.1:{free_port()}/callback", print_only=False,
                  timeout_seconds=10, open_url=browser(fake))
        path = settings.data_path / "spotify.env"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        stored = read_credentials(path)
        assert stored["SPOTIFY_CLIENT_ID"] == "fake-client-id" and stored["SPOTIFY_CLIENT_SECRET"] == "fake-client-secret"
        assert stored["SPOTIFY_REFRESH_TOKEN"] in fake.valid_refresh_tokens
        assert stored["SPOTIFY_REFRESH_TOKEN"] not in capsys.readouterr().out  # stored, not printed
        with SpotifyClient("fake-client-id", stored["SPOTIFY_REFRESH_TOKEN"], "fake-client-secret",
                           api_base_url=fake.base_url, accounts_base_url=fake.base_url) as client:
            assert client.recently_played()["items"] == []


def test_pkce_flow_for_apps_without_a_secret(settings, accounts_env, capsys):
    with SimulatedSpotify(client_secret=None) as fake:
        accounts_env(fake, None)
        authorize(settings, "fake-client-id", f"http://127.0.0.1:{free_port()}/callback", print_only=True,
                  timeout_seconds=10, open_url=browser(fake))
        out = capsys.readouterr().out
        assert "code_challenge_method=S256" in out and "PKCE" in out
        assert "export SPOTIFY_CLIENT_SECRET=''" in out
        assert not (settings.data_path / "spotify.env").exists()
        token = next(line for line in out.splitlines() if "SPOTIFY_REFRESH_TOKEN" in line).split("'")[1]
        assert token in fake.valid_refresh_tokens


def test_auth_asks_for_every_scope_names_those_not_granted_and_lets_spotifys_view_ask_again(settings, accounts_env,
                                                                                          capsys):
    from spotify_assets.lib import listeners
    from spotify_assets.lib.spotify_view.landing import (
        missing_scopes,
        record_missing_scope,
        view_root,
    )

    settings.data_path.mkdir(parents=True)
    listeners.add(settings.data_path, "bob", {})
    bobs_view = view_root(settings.for_listener("bob").landing_path)
    for root in (view_root(settings.landing_path), bobs_view):
        record_missing_scope(root, "user-top-read", date(2026, 1, 1))
    asked = []
    with SimulatedSpotify(scopes=("user-read-recently-played",)) as fake:
        accounts_env(fake, "fake-client-secret")
        approve = browser(fake)
        authorize(settings, "fake-client-id", f"http://127.0.0.1:{free_port()}/callback", print_only=False,
                  timeout_seconds=10, open_url=approve, listener_name="bob")
        assert missing_scopes(bobs_view) == {}  # bob's next pull asks again; the default listener's waits
        assert list(missing_scopes(view_root(settings.landing_path))) == ["user-top-read"]
        authorize(settings, "fake-client-id", f"http://127.0.0.1:{free_port()}/callback", print_only=False,
                  timeout_seconds=10, open_url=lambda url: (asked.append(url), approve(url)))
    scopes = parse_qs(urlparse(asked[0]).query)["scope"][0].split()
    assert scopes == ["user-read-recently-played", "user-top-read", "playlist-read-private",
                      "playlist-read-collaborative"]
    out = capsys.readouterr().out
    assert "Spotify did not grant user-top-read, playlist-read-private, playlist-read-collaborative" in out
    assert missing_scopes(view_root(settings.landing_path)) == {}  # the next pull asks again


def test_a_denied_authorization_says_so(settings, accounts_env):
    with SimulatedSpotify() as fake:
        accounts_env(fake, "fake-client-secret")
        with pytest.raises(SpotifyAuthError, match="did not authorize the app: access_denied"):
            authorize(settings, "fake-client-id", f"http://127.0.0.1:{free_port()}/callback", print_only=False,
                      timeout_seconds=10, open_url=browser(fake, deny=True))
    with pytest.raises(CommandFailed, match="--client-id"):
        os.environ.pop("SPOTIFY_CLIENT_ID", None)
        authorize(settings, None, "http://127.0.0.1:1/callback", print_only=True, timeout_seconds=1)


def test_a_rotated_refresh_token_is_written_back_to_the_credentials_file(settings, monkeypatch):
    from spotify_assets.lib.configuration import write_credentials

    monkeypatch.setenv("SPOTIFY_DATA_DIR", settings.data_dir)
    with SimulatedSpotify(rotate_refresh_tokens=True) as fake:
        path = settings.data_path / "spotify.env"
        write_credentials(path, {"SPOTIFY_CLIENT_ID": "fake-client-id", "SPOTIFY_CLIENT_SECRET": "fake-client-secret",
                                      "SPOTIFY_REFRESH_TOKEN": "fake-refresh-token"})
        resource = SpotifyApiResource(client_id="fake-client-id", client_secret="fake-client-secret",
                                      refresh_token="fake-refresh-token", api_base_url=fake.base_url,
                                      accounts_base_url=fake.base_url)
        with resource.catalog_client(settings) as client:
            client.recently_played()
            fake.expire_access_tokens()
            client.recently_played()
        assert read_credentials(path)["SPOTIFY_REFRESH_TOKEN"] in fake.valid_refresh_tokens
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.slow
def test_no_secret_reaches_any_log_metadata_or_file_after_a_real_poll(tmp_path):
    data_dir = tmp_path / "data"
    with SimulatedSpotify() as fake:
        fake.add_play(int(time.time() * 1000) - 60_000, track_object("abc", "Song", ["Artist"], "Album", 200_000, "QZ1"))
        environment = cli_environment(data_dir) | {
            "SPOTIFY_CLIENT_ID": "fake-client-id", "SPOTIFY_CLIENT_SECRET": "fake-client-secret",
            "SPOTIFY_REFRESH_TOKEN": "fake-refresh-token", "SPOTIFY_API_BASE_URL": fake.base_url,
            "SPOTIFY_ACCOUNTS_BASE_URL": fake.base_url}
        completed = subprocess.run([str(Path(sys.executable).with_name("spotify-assets")), "poll"], env=environment,
                                   capture_output=True, text=True, timeout=600)
        assert completed.returncode == 0, completed.stderr
        assert "poll: 1 new play, the newest played " in completed.stdout
        secrets = ["fake-client-secret", "fake-refresh-token", *fake.access_tokens]
        revoked = subprocess.run([str(Path(sys.executable).with_name("spotify-assets")), "poll"],
                                 env=environment | {"SPOTIFY_REFRESH_TOKEN": "revoked-token-value"},
                                 capture_output=True, text=True, timeout=600)
    assert revoked.returncode == 1 and "spotify-assets auth" in revoked.stderr
    secrets.append("revoked-token-value")
    outputs = completed.stdout + completed.stderr + revoked.stdout + revoked.stderr
    leaks = [s for s in secrets if s in outputs]
    for file in data_dir.rglob("*"):  # landing, warehouse, marts, logs, Dagster's event log and storage
        if file.is_file():
            content = file.read_bytes()
            leaks += [f"{file}: {s}" for s in secrets if s.encode() in content]
    assert leaks == []


@pytest.mark.slow
def test_credentials_an_echoing_server_sends_back_never_leave_the_process(small_history, tmp_path):
    """A server that echoes the request (a proxy, a misconfigured base URL) put the refresh token, the Basic header
    and the Last.fm api_key on the terminal and into DAGSTER_HOME (event log, compute logs)."""
    import base64

    from spotify_assets.lib.simulated.lastfm import LastfmFault, SimulatedLastfm
    from spotify_assets.lib.simulated.spotify import Fault

    data_dir = tmp_path / "data"
    tool = str(Path(sys.executable).with_name("spotify-assets"))
    imported = subprocess.run([tool, "import", str(small_history.exports[0].path)], env=cli_environment(data_dir),
                              capture_output=True, text=True, timeout=600)
    assert imported.returncode == 0, imported.stderr
    with SimulatedSpotify() as fake, SimulatedLastfm(api_key="lastfm-key-0123456789") as lastfm:
        environment = cli_environment(data_dir) | {
            "SPOTIFY_CLIENT_ID": "fake-client-id", "SPOTIFY_CLIENT_SECRET": "fake-client-secret",
            "SPOTIFY_REFRESH_TOKEN": "fake-refresh-token", "SPOTIFY_API_BASE_URL": fake.base_url,
            "SPOTIFY_ACCOUNTS_BASE_URL": fake.base_url, "LASTFM_API_KEY": lastfm.api_key,
            "LASTFM_API_BASE_URL": lastfm.base_url}
        outputs = []
        fake.inject("token", Fault(status=400, echo=True))  # the token endpoint echoes the refresh request
        outputs.append(subprocess.run([tool, "poll"], env=environment, capture_output=True, text=True, timeout=600))
        assert outputs[-1].returncode == 1 and "[redacted]" in outputs[-1].stderr
        fake.inject("recently-played", Fault(status=200, echo=True))  # an answer that claims success, echoing
        outputs.append(subprocess.run([tool, "poll"], env=environment, capture_output=True, text=True, timeout=600))
        fake.inject("recently-played", Fault(status=400, echo=True))
        outputs.append(subprocess.run([tool, "poll"], env=environment, capture_output=True, text=True, timeout=600))
        assert outputs[-1].returncode == 1
        lastfm.inject("track.getInfo", LastfmFault(code=13, echo=True))  # not retried: its message is the error
        outputs.append(subprocess.run([tool, "enrich"], env=environment | {"SPOTIFY_CLIENT_ID": ""},
                                      capture_output=True, text=True, timeout=600))
        assert outputs[-1].returncode == 1 and "api_key=[redacted]" in outputs[-1].stderr
        secrets = ["fake-client-secret", "fake-refresh-token", lastfm.api_key, *fake.access_tokens,
                   base64.b64encode(b"fake-client-id:fake-client-secret").decode()]
    text = "".join(completed.stdout + completed.stderr for completed in outputs)
    leaks = [secret for secret in secrets if secret in text]
    for file in data_dir.rglob("*"):  # landing, the warehouse, Dagster's event log and compute logs
        if file.is_file():
            content = file.read_bytes()
            leaks += [f"{file}: {secret}" for secret in secrets if secret.encode() in content]
    assert leaks == []
