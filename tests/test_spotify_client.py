"""The Spotify client against a fake Spotify on 127.0.0.1, through real HTTP, faults included."""

import base64

import pytest
from conftest import Sleeps

from spotify_assets.lib.http_retry import RetryPolicy
from spotify_assets.lib.simulated.spotify import Fault, SimulatedSpotify, track_object
from spotify_assets.lib.spotify_api.client import (
    SpotifyAuthError,
    SpotifyClient,
    SpotifyError,
    SpotifyNotFound,
)

SECRETS = ("fake-client-secret", "fake-refresh-token")


@pytest.fixture
def fake():
    with SimulatedSpotify() as server:
        server.now_ms = 1_700_000_000_000
        for minute in range(60):
            server.add_play(1_700_000_000_000 - minute * 60_000,
                            track_object(f"t{minute}", f"Song {minute}", ["A", "B"], "Album", 180_000, f"ISRC{minute}"))
        yield server


def client_for(fake, sleeps=None, **kwargs):
    defaults = dict(client_id="fake-client-id", client_secret="fake-client-secret", refresh_token="fake-refresh-token",
                    api_base_url=fake.base_url, accounts_base_url=fake.base_url, sleep=sleeps if sleeps is not None else Sleeps(),
                    retry=RetryPolicy(max_attempts=4, backoff_seconds=0.5, max_wait_seconds=30, timeout_seconds=1))
    return SpotifyClient(**(defaults | kwargs))


def test_recently_played_keeps_only_the_50_most_recent_and_honours_after(fake):
    with client_for(fake) as client:
        page = client.recently_played()
        assert len(page["items"]) == 50
        assert page["items"][0]["played_at"] == "2023-11-14T22:13:20.000Z"  # newest first
        newer = client.recently_played(after_ms=1_700_000_000_000 - 5 * 60_000)
        assert [item["track"]["id"] for item in newer["items"]] == ["t0", "t1", "t2", "t3", "t4"]
        assert newer["cursors"] == {"after": "1700000000000", "before": str(1_700_000_000_000 - 4 * 60_000)}
    assert fake.calls("token") == 1  # the access token is cached across requests


def test_basic_and_pkce_refresh():
    with SimulatedSpotify(client_secret=None) as pkce:
        with client_for(pkce, client_secret=None) as client:
            assert client.recently_played()["items"] == []
    with SimulatedSpotify() as basic:
        with client_for(basic, client_secret="wrong") as client, pytest.raises(SpotifyAuthError, match="app credentials"):
            client.recently_played()


def test_an_expired_access_token_is_refreshed_once(fake):
    with client_for(fake) as client:
        client.recently_played()
        fake.inject("recently-played", Fault(expire_tokens=True))
        assert len(client.recently_played()["items"]) == 50
    assert fake.calls("token") == 2


def test_a_rotated_refresh_token_is_kept_and_handed_over():
    stored = []
    with SimulatedSpotify(rotate_refresh_tokens=True) as fake:
        with client_for(fake, on_refresh_token=stored.append) as client:
            client.recently_played()
            fake.expire_access_tokens()
            client.recently_played()  # refreshes with the rotated token, not the original
    assert len(stored) == 2 and stored[0] != stored[1]


@pytest.mark.parametrize("headers, expected_wait", [
    ({"Retry-After": "7"}, 7.0),
    ({"retry-after": "3"}, 3.0),  # lower-case header
    ({"Retry-After": "0"}, 0.5),  # 0: back off anyway
    ({}, 0.5),  # missing
    ({"Retry-After": "soon"}, 0.5),  # garbage
    ({"Retry-After": "3600"}, 30.0),  # capped
])
def test_429_waits_as_told_within_a_cap(fake, headers, expected_wait):
    sleeps = Sleeps()
    fake.inject("recently-played", Fault(status=429, headers=headers))
    with client_for(fake, sleeps=sleeps) as client:
        assert len(client.recently_played()["items"]) == 50
    assert sleeps == [expected_wait]


def test_5xx_slow_answers_and_malformed_bodies_are_retried_with_backoff(fake):
    sleeps = Sleeps()
    fake.inject("recently-played", Fault(status=500), Fault(status=503), Fault(delay_seconds=1.5),
                Fault(status=200, body=b"{not json"))
    with client_for(fake, sleeps=sleeps, retry=RetryPolicy(max_attempts=5, backoff_seconds=0.5,
                                                            max_wait_seconds=30, timeout_seconds=0.5)) as client:
        assert len(client.recently_played()["items"]) == 50
    assert sleeps == [0.5, 1.0, 2.0, 1.0]  # 500, 503, timeout: doubling; the malformed body: its own count


def test_retries_are_bounded(fake):
    fake.inject("recently-played", *[Fault(status=502)] * 10)
    with client_for(fake) as client, pytest.raises(SpotifyError, match="gave up after 4 attempts .HTTP 502."):
        client.recently_played()


def test_revoked_refresh_token_and_missing_scope_say_what_to_do():
    with SimulatedSpotify() as fake:
        fake.revoke_refresh_tokens()
        with client_for(fake) as client, pytest.raises(SpotifyAuthError, match="spotify-assets auth") as error:
            client.recently_played()
        assert not any(secret in str(error.value) for secret in SECRETS)
    with SimulatedSpotify(scopes=()) as fake:
        with client_for(fake) as client, pytest.raises(SpotifyAuthError, match="user-read-recently-played"):
            client.recently_played()


def test_track_lookup_and_not_found(fake):
    fake.tracks["abc123"] = track_object("abc123", "Song", ["A", "B"], "Album", 200_000, "QZ0000000001")
    with client_for(fake) as client:
        assert client.track("abc123")["external_ids"]["isrc"] == "QZ0000000001"
        with pytest.raises(SpotifyNotFound):
            client.track("nothere0")


def test_secrets_travel_only_in_headers_and_bodies(fake):
    with client_for(fake) as client:
        client.recently_played()
    for _, path, query in fake.requests:
        assert not any(secret in path or secret in str(query) for secret in SECRETS)
    basic = base64.b64encode(b"fake-client-id:fake-client-secret").decode()
    assert basic not in str(fake.requests)
