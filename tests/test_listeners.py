"""Listeners (counting rules section 12): `listener add | list | remove`, each one's settings, inbox and credentials file,
and `auth --listener` writing into that listener's file only."""

import stat
import subprocess
import sys
from pathlib import Path

import pytest
import tomlkit
from conftest import cli_environment, free_port
from test_authorization import browser

from spotify_assets.cli.auth import authorize
from spotify_assets.lib import listeners
from spotify_assets.lib.configuration import read_credentials, write_credentials
from spotify_assets.lib.simulated.spotify import SimulatedSpotify

CLI = str(Path(sys.executable).with_name("spotify-assets"))


def _run(data_dir: Path, *arguments, input_text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *arguments], env=cli_environment(data_dir), capture_output=True, text=True,
                          timeout=120, input=input_text)


def test_listeners_are_added_listed_and_removed_with_their_own_files_only(tmp_path):
    data_dir = tmp_path / "data"
    added = _run(data_dir, "listener", "add", "bob", "--timezone", "America/New_York", "--share-with-friends")
    assert added.returncode == 0, added.stderr
    assert "listener bob added: time zone America/New_York" in added.stdout and "shares with friends" in added.stdout
    own_inbox = tmp_path / "alices-downloads"
    assert _run(data_dir, "listener", "add", "alice", "--inbox", str(own_inbox)).returncode == 0

    document = tomlkit.parse((data_dir / "settings.toml").read_text()).unwrap()
    assert document["listeners"] == {"bob": {"timezone": "America/New_York", "share_with_friends": True},
                                     "alice": {"inbox": str(own_inbox)}}
    for name in ("bob", "alice"):
        credentials = data_dir / "listeners" / name / "spotify.env"
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600 and read_credentials(credentials) == {}
    assert (data_dir / "listeners" / "bob" / "inbox").is_dir()
    assert not (data_dir / "listeners" / "alice" / "inbox").exists()  # alice named her own
    bob = listeners.listener(data_dir, "bob")
    assert (bob.setting("timezone"), bob.setting("share_with_friends")) == ("America/New_York", True)
    assert bob.published_marts_path == data_dir / "marts" / "bob.duckdb"
    alice = listeners.listener(data_dir, "alice")
    assert (alice.setting("timezone"), alice.setting("share_with_friends"), alice.inbox_path) == ("UTC", False, own_inbox)
    default = listeners.listener(data_dir, None)
    assert default.folder == data_dir and default.published_marts_path == data_dir / "marts.duckdb"

    listed = _run(data_dir, "listener", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["listener", "default", "alice", "bob"]
    assert lines[3].split()[1:4] == ["America/New_York", "no", "shares"]
    shown = _run(data_dir, "config", "show")
    assert shown.returncode == 0 and "ignored in the settings file" not in shown.stdout  # the listeners' tables

    # Refused: a name that is not one, a name taken, the default, a bad value.
    assert _run(data_dir, "listener", "add", "Bob!").returncode == 2
    taken = _run(data_dir, "listener", "add", "bob")
    assert taken.returncode == 1 and "there is a listener called 'bob' already" in taken.stderr
    assert _run(data_dir, "listener", "add", "carol", "--timezone", "Mars/Olympus").returncode == 1
    assert "carol" not in listeners.listener_names(data_dir)
    assert _run(data_dir, "listener", "remove", "default", "--yes").returncode == 1
    assert _run(data_dir, "listener", "remove", "dave", "--yes").returncode == 1

    # Removing asks first; without a terminal to ask on, only --yes removes.
    (data_dir / "marts").mkdir()
    for name in ("bob", "alice"):
        (data_dir / "marts" / f"{name}.duckdb").write_bytes(b"marts")
        (data_dir / "listeners" / name / "landing").mkdir()
    unconfirmed = _run(data_dir, "listener", "remove", "bob")
    assert unconfirmed.returncode == 1 and "give --yes" in unconfirmed.stderr
    assert (data_dir / "listeners" / "bob").exists()
    removed = _run(data_dir, "listener", "remove", "bob", "--yes")
    assert removed.returncode == 0, removed.stderr
    assert not (data_dir / "listeners" / "bob").exists() and not (data_dir / "marts" / "bob.duckdb").exists()
    assert listeners.listener_names(data_dir) == ["default", "alice"]
    assert (data_dir / "listeners" / "alice" / "landing").is_dir() and (data_dir / "marts" / "alice.duckdb").exists()
    assert read_credentials(data_dir / "listeners" / "alice" / "spotify.env") == {}


@pytest.mark.parametrize("answer, kept", [("n\n", True), ("y\n", False)])
def test_removal_at_a_terminal_asks(answer, kept, tmp_path, monkeypatch, capsys):
    from spotify_assets.cli.listeners import remove_listener
    from spotify_assets.settings import SpotifySettings

    data_dir = tmp_path / "data"
    listeners.add(data_dir, "bob", {})
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: (capsys.readouterr(), answer.strip())[1])
    remove_listener(SpotifySettings(data_dir=str(data_dir)), "bob", yes=False)
    assert (data_dir / "listeners" / "bob").exists() == kept
    assert ("bob" in listeners.listener_names(data_dir)) == kept


def test_auth_for_a_listener_writes_its_own_file_with_the_installations_app(tmp_path, monkeypatch, capsys):
    """Every listener may use the installation's app (its Client ID and secret); the refresh token is each one's own,
    and a listener never authorized has none, even when the installation's file holds one."""
    from spotify_assets.settings import SpotifySettings

    data_dir = tmp_path / "data"
    installation = {"SPOTIFY_CLIENT_ID": "fake-client-id", "SPOTIFY_CLIENT_SECRET": "fake-client-secret",
                    "SPOTIFY_REFRESH_TOKEN": "the-default-listeners-token"}
    write_credentials(data_dir / "spotify.env", installation)
    for name in ("bob", "carol"):
        listeners.add(data_dir, name, {})
    for variable in installation:
        monkeypatch.delenv(variable, raising=False)
    carol = listeners.listener(data_dir, "carol")
    assert not carol.is_authorized and "SPOTIFY_REFRESH_TOKEN" not in carol.secrets()
    assert carol.secrets()["SPOTIFY_CLIENT_ID"] == "fake-client-id"
    with SimulatedSpotify() as fake:
        monkeypatch.setenv("SPOTIFY_ACCOUNTS_BASE_URL", fake.base_url)
        authorize(SpotifySettings(data_dir=str(data_dir)), None, f"http://127.0.0.1:{free_port()}/callback",
                  print_only=False, timeout_seconds=10, open_url=browser(fake), listener_name="bob")
        bobs = read_credentials(data_dir / "listeners" / "bob" / "spotify.env")
        assert bobs["SPOTIFY_REFRESH_TOKEN"] in fake.valid_refresh_tokens
    assert bobs["SPOTIFY_CLIENT_ID"] == "fake-client-id" and bobs["SPOTIFY_CLIENT_SECRET"] == "fake-client-secret"
    assert read_credentials(data_dir / "spotify.env") == installation  # the default listener's untouched
    assert read_credentials(data_dir / "listeners" / "carol" / "spotify.env") == {}
    assert "Authorized for bob." in capsys.readouterr().out
    assert listeners.listener(data_dir, "bob").is_authorized and not carol.is_authorized
