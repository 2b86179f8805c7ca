"""The Last.fm client (pylast underneath) against a fake Last.fm on 127.0.0.1, faults included."""

import pytest
from conftest import Sleeps

from spotify_assets.lib.lastfm.client import (
    LastfmClient,
    LastfmError,
    LastfmNotFound,
    LastfmStop,
)
from spotify_assets.lib.simulated.lastfm import (
    LastfmFault,
    SimulatedLastfm,
    SimulatedTrack,
)


@pytest.fixture
def fake():
    with SimulatedLastfm() as server:
        server.tracks[("björk", "jóga")] = SimulatedTrack(listeners=812345, playcount=4567890, duration_ms=305000,
                                                     tags=[("electronic", 100), ("Icelandic", 61), ("seen live", 12)])
        server.tracks[("quiet one", "single tag")] = SimulatedTrack(tags=[("ambient", 100)])
        server.tracks[("quiet one", "untagged")] = SimulatedTrack(listeners=3, playcount=4, duration_ms=0, tags=[])
        server.artists["björk"] = [("electronic", 100), ("female vocalists", 80)]
        yield server


def client_for(fake, sleeps=None, **kwargs):
    return LastfmClient(fake.api_key, base_url=fake.base_url, requests_per_second=1000,
                        sleep=sleeps if sleeps is not None else Sleeps(), backoff_seconds=0.5, **kwargs)


def test_track_info_in_two_requests_with_typed_counts_and_weighted_tags(fake):
    client = client_for(fake)
    info = client.track_info("Björk", "Jóga")
    assert (info.listeners, info.playcount, info.duration_ms) == (812345, 4567890, 305000)
    assert info.tags == [("electronic", 100), ("Icelandic", 61), ("seen live", 12)]
    assert [r["method"] for r in fake.requests] == ["track.getInfo", "track.getTopTags"]
    assert client.requests_made == 2
    assert "<listeners>812345</listeners>" in info.answers["track.getInfo"]
    assert "<count>61</count>" in info.answers["track.getTopTags"]
    assert all(ua.startswith("spotify-assets/") for ua in fake.user_agents)


@pytest.mark.parametrize("title, tags, duration", [("Single tag", [("ambient", 100)], 200000), ("Untagged", [], None)])
def test_tag_shapes_one_and_none(fake, title, tags, duration):
    info = client_for(fake).track_info("Quiet One", title)
    assert info.tags == tags and info.duration_ms == duration


def test_unknown_track_and_artist_are_not_found(fake):
    client = client_for(fake)
    with pytest.raises(LastfmNotFound):
        client.track_info("Nobody", "Nothing")
    with pytest.raises(LastfmNotFound):
        client.artist_tags("Nobody")
    tags, answer = client.artist_tags("Björk")
    assert tags == [("electronic", 100), ("female vocalists", 80)] and "<count>80</count>" in answer


@pytest.mark.parametrize("fault", [
    LastfmFault(code=11, http_status=200), LastfmFault(code=16, http_status=503), LastfmFault(code=29, http_status=429),
    LastfmFault(code=8), LastfmFault(code=None, body=b"<lfm status=\"ok\"><track>"), LastfmFault(code=None, http_status=502, body=b"bad gateway"),
])
def test_transient_errors_are_retried_with_backoff(fake, fault):
    sleeps = Sleeps()
    fake.inject("track.getInfo", fault)
    assert client_for(fake, sleeps).track_info("Björk", "Jóga").listeners == 812345
    assert [s for s in sleeps if s > 0.01] == [0.5]  # one backoff (pacing waits are ~1 ms here)


@pytest.mark.parametrize("retry_after, waited", [("7", 7.0), ("3600", 60.0), ("soon", 0.5)])
def test_retry_after_is_honoured_and_capped(fake, retry_after, waited):
    sleeps = Sleeps()
    fake.inject("track.getInfo", LastfmFault(code=29, http_status=429, retry_after=retry_after))
    assert client_for(fake, sleeps).track_info("Björk", "Jóga").listeners == 812345
    assert [s for s in sleeps if s > 0.01] == [waited]  # what the server asked, at most 60 s; else the backoff


def test_retries_are_bounded(fake):
    fake.inject("artist.getTopTags", *[LastfmFault(code=29, http_status=429)] * 10)
    with pytest.raises(LastfmError, match="gave up after 3 attempts .error 29."):
        client_for(fake, max_attempts=3).artist_tags("Björk")


@pytest.mark.parametrize("code, state", [(10, "invalid"), (26, "suspended")])
def test_a_bad_key_stops_with_a_clear_message_and_no_key_in_it(fake, code, state):
    fake.inject("track.getInfo", LastfmFault(code=code))
    with pytest.raises(LastfmStop, match=f"API key is {state}") as error:
        client_for(fake).track_info("Björk", "Jóga")
    assert fake.api_key not in str(error.value)
    with pytest.raises(LastfmStop, match="invalid"):
        LastfmClient("wrong-key", base_url=fake.base_url, requests_per_second=1000).artist_tags("Björk")


def test_pacing_keeps_to_the_configured_rate(fake):
    import time

    client = LastfmClient(fake.api_key, base_url=fake.base_url, requests_per_second=4)
    started = time.monotonic()
    for _ in range(3):
        client.artist_tags("Björk")
    # Three requests at 4 per second: at least two quarter-second gaps, however fast each answer is.
    assert time.monotonic() - started >= 0.5


def test_a_slow_answer_times_out_and_is_asked_again(fake):
    sleeps = Sleeps()
    fake.inject("artist.getTopTags", LastfmFault(code=None, body=b"", delay_seconds=1.5))
    tags, _ = client_for(fake, sleeps, timeout_seconds=0.5).artist_tags("Björk")
    assert tags[0] == ("electronic", 100)
    assert [s for s in sleeps if s > 0.01] == [0.5] and fake.calls("artist.getTopTags") == 2
