"""One poll cycle for every listener, against the simulated Spotify over real HTTP: bounded concurrency, a 429 that
holds up only its own listener, an authorization Spotify refuses reported and skipped, each answer in its own
listener's landing, and one build that updates every listener's marts."""

import json
from datetime import datetime, timedelta, timezone

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from spotify_assets.definitions import defs
from spotify_assets.defs.publishing.assets import published_marts_database
from spotify_assets.defs.recently_played.assets import (
    EVERY_LISTENER_CHECK,
    recently_played_items,
    recently_played_responses,
)
from spotify_assets.defs.recently_played.sensors import days_request
from spotify_assets.defs.spotify_api.resources import SpotifyApiResource
from spotify_assets.defs.transformations.assets import warehouse_models
from spotify_assets.lib import configuration, listeners
from spotify_assets.lib.http_retry import RetryPolicy
from spotify_assets.lib.recently_played.landing import landed_responses
from spotify_assets.lib.recently_played.polling import PollTarget, poll_everyone
from spotify_assets.lib.simulated.spotify import Fault, SimulatedSpotify, track_object

NOW_MS = int(datetime(2026, 3, 10, 20, 0, tzinfo=timezone.utc).timestamp() * 1000)
BOBS_LEAD_MS = 17 * 60_000  # bob stopped 17 minutes earlier: none of his minutes is one of the default listener's


def _track(listener: str, number: int) -> dict:
    track_id = f"{listener}{number:04d}".ljust(22, "x")
    return track_object(track_id, f"{listener.title()} Song {number}", [f"{listener.title()} Band"],
                        f"{listener.title()} Album", 200_000, f"{listener.upper()[:4]:X<4}{number:08d}")


def _listen(account, listener: str, plays: int, before_ms: int = 0) -> set[str]:
    """`plays` plays of the listener's own tracks, 4 minutes apart, the last 4 minutes and `before_ms` before NOW_MS;
    their track ids."""
    ids = set()
    for number in range(plays):
        track = _track(listener, number % 7)
        account.add_play(NOW_MS - before_ms - (plays - number) * 240_000, track)
        ids.add(track["id"])
    return ids


def _landed_track_ids(directory) -> set[str]:
    return {item["track"]["id"] for response in landed_responses(directory)
            for item in json.loads(response.path.read_bytes())["items"]}


def test_one_cycle_polls_everyone_at_once_and_a_429_or_a_refused_token_stays_with_its_listener(tmp_path):
    with SimulatedSpotify() as fake:
        fake.now_ms = NOW_MS
        played, targets = {}, []
        for name in ("ann", "bob", "cat", "dan", "eve", "fay", "gus"):
            account = fake.add_account(f"{name}-refresh-token")
            played[name] = _listen(account, name, 12)
            account.inject("recently-played", Fault(status=503, delay_seconds=0.3))  # a slow 503 first...
            if name == "bob":  # ...then a 429 for bob alone, twice, with Retry-After in two spellings
                account.inject("recently-played", Fault(status=429, headers={"Retry-After": "1"}),
                               Fault(status=429, headers={"retry-after": "1"}))
            if name == "cat":
                fake.revoke(account)
            targets.append(PollTarget(name, fake.client_id, fake.client_secret, f"{name}-refresh-token",
                                      tmp_path / name / "recently_played"))
        outcomes = poll_everyone(targets, fake.base_url, fake.base_url,
                                 RetryPolicy(backoff_seconds=0.05, timeout_seconds=5), concurrency=3)

    by_name = {outcome.listener: outcome for outcome in outcomes}
    assert [o.listener for o in outcomes] == [t.listener for t in targets]
    # Bounded: never more than 3 requests answered at once, and the cycle did run them side by side.
    assert 2 <= fake.most_in_flight <= 3
    for name in ("ann", "bob", "dan", "eve", "fay", "gus"):
        outcome = by_name[name]
        assert outcome.problem is None and outcome.landed.items == 12, name
        # Each answer in its own listener's landing, holding that listener's plays and nobody else's.
        assert _landed_track_ids(tmp_path / name / "recently_played") == played[name]
    # Bob's 429s were waited out by bob alone: each of the others had landed before bob's second answer came.
    bob_landed = by_name["bob"].landed.fetched_at_ms
    assert all(by_name[name].landed.fetched_at_ms < bob_landed - 1500 for name in ("ann", "dan", "eve", "fay", "gus"))
    assert by_name["bob"].requests > by_name["ann"].requests
    # Cat's refused authorization is reported, names what to do, holds no secret, and lands nothing.
    cat = by_name["cat"]
    assert cat.needs_authorization and cat.landed is None
    assert "spotify-assets auth" in cat.problem and "cat-refresh-token" not in cat.problem
    assert not (tmp_path / "cat" / "recently_played").exists() or not landed_responses(tmp_path / "cat" / "recently_played")
    assert "cat-refresh-token" not in repr(targets)


@pytest.mark.slow
def test_a_poll_run_lands_every_listener_and_one_build_updates_each_listeners_marts(settings, tmp_path):
    data = settings.data_path
    data.mkdir(parents=True)
    with SimulatedSpotify() as fake:
        fake.now_ms = NOW_MS
        own = _listen(fake, "default", 20)
        bobs = _listen(fake.add_account("bob-refresh-token"), "bob", 15, before_ms=BOBS_LEAD_MS)
        carol = fake.add_account("carol-refresh-token")
        _listen(carol, "carol", 5)
        fake.revoke(carol)
        listeners.add(data, "bob", {"timezone": "Europe/Berlin"})
        listeners.add(data, "carol", {})
        listeners.add(data, "dora", {})  # never authorized: left out, not a failure
        for name in ("bob", "carol"):
            configuration.write_credentials(listeners.Listener(name, data).credentials_path,
                                            {"SPOTIFY_REFRESH_TOKEN": f"{name}-refresh-token"})
        resources = {
            "spotify_settings": settings,
            # The installation's app and the default listener's authorization; bob and carol have their own tokens.
            "spotify_api": SpotifyApiResource(client_id=fake.client_id, client_secret=fake.client_secret,
                                              refresh_token="fake-refresh-token", api_base_url=fake.base_url,
                                              accounts_base_url=fake.base_url, backoff_seconds=0.01, timeout_seconds=5),
            "dbt": defs.resources["dbt"],
        }
        instance = DagsterInstance.ephemeral()
        polled = materialize([recently_played_responses], resources=resources, instance=instance)

    assert polled.success
    metadata = polled.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["plays_by_listener"].value == {"default": 20, "bob": 15}
    assert metadata["listeners_not_polled"].value == ["carol"]
    assert metadata["listeners_without_authorization"].value == ["dora"]
    check = next(c for c in polled.get_asset_check_evaluations() if c.check_name == EVERY_LISTENER_CHECK)
    assert not check.passed and check.description.startswith("carol: Spotify rejected the refresh token")
    assert _landed_track_ids(listeners.Listener("bob", data).landing_path / "recently_played") == bobs
    # When bob listened is his own: no log line or metadata entry of the installation's run says it.
    (bobs_answer,) = landed_responses(listeners.Listener("bob", data).landing_path / "recently_played")
    bobs_times = {bobs_answer.path.name, *(item["played_at"][:16] for item in json.loads(bobs_answer.path.read_bytes())["items"]),
                  *(datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="minutes")[:16]
                    for ms in (bobs_answer.oldest_ms, bobs_answer.newest_ms))}
    said = " ".join([entry.user_message or "" for entry in instance.all_logs(polled.run_id)]
                    + [str(entry.value) for entry in metadata.values()]
                    + [str(entry.value) for c in polled.get_asset_check_evaluations() for entry in c.metadata.values()]
                    + [c.description or "" for c in polled.get_asset_check_evaluations()])
    assert "bob" in said and not [time for time in bobs_times if time in said]

    days = list(metadata["touched_days"].value)
    assert materialize([recently_played_items], resources=resources, instance=instance,
                       tags=days_request(days, "test").tags).success
    assert materialize([warehouse_models, published_marts_database], resources=resources, instance=instance).success

    # One build: each listener's published marts hold its own polled plays, in its own zone, and nobody else's.
    for name, expected in (("default", own), ("bob", bobs)):
        path = listeners.Listener(name, data).published_marts_path
        with duckdb.connect(str(path), read_only=True) as marts:
            uris = {row[0].rsplit(":", 1)[-1] for row in marts.execute("SELECT track_uri FROM fct_plays").fetchall()}
            assert uris == expected, name
            assert marts.execute("SELECT count(*) FROM fct_plays").fetchone()[0] == (20 if name == "default" else 15)
    with duckdb.connect(str(listeners.Listener("bob", data).published_marts_path), read_only=True) as marts:
        first_local = marts.execute("SELECT min(played_at_local) FROM fct_plays").fetchone()[0]
    first_utc = datetime.fromtimestamp((NOW_MS - BOBS_LEAD_MS - 15 * 240_000) / 1000, tz=timezone.utc).replace(tzinfo=None)
    assert first_local == first_utc + timedelta(hours=1)  # Berlin in March: UTC+1


def test_the_listeners_who_authorized_are_polled_when_the_installations_own_listener_never_did(settings, monkeypatch):
    """A household whose installation owner set up the app but never authorized an account of their own: the
    schedule still asks for a poll, the definitions' own resource loads without SPOTIFY_REFRESH_TOKEN, and the run
    polls bob, listing the default listener as without authorization."""
    from spotify_assets.defs.recently_played.sensors import poll_request
    from spotify_assets.defs.resources import resources as defined_resources

    data = settings.data_path
    data.mkdir(parents=True)
    with SimulatedSpotify() as fake:
        fake.now_ms = NOW_MS
        bobs = _listen(fake.add_account("bob-refresh-token"), "bob", 9)
        monkeypatch.setenv("SPOTIFY_CLIENT_ID", fake.client_id)
        monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", fake.client_secret)
        monkeypatch.delenv("SPOTIFY_REFRESH_TOKEN", raising=False)
        monkeypatch.setenv("SPOTIFY_API_BASE_URL", fake.base_url)
        monkeypatch.setenv("SPOTIFY_ACCOUNTS_BASE_URL", fake.base_url)
        listeners.add(data, "bob", {})
        assert poll_request(settings).skip_message.startswith("Live polling is off")  # bob has not authorized yet
        configuration.write_credentials(listeners.Listener("bob", data).credentials_path,
                                        {"SPOTIFY_REFRESH_TOKEN": "bob-refresh-token"})
        assert not hasattr(poll_request(settings), "skip_message")  # a RunRequest: bob can be polled
        spotify_api = defined_resources().resources["spotify_api"]
        polled = materialize([recently_played_responses], instance=DagsterInstance.ephemeral(),
                             resources={"spotify_settings": settings, "spotify_api": spotify_api})
        # The catalog answers the same whoever asks: its lookups use bob's authorization.
        fake.tracks["catalogtrack"] = track_object("catalogtrack", "Looked Up", ["Somebody"], "Album", 1000, "ISRC1")
        with spotify_api.catalog_client(settings) as client:
            assert json.loads(client.get_response("/v1/tracks/catalogtrack").content)["name"] == "Looked Up"

    assert polled.success
    metadata = polled.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["plays_by_listener"].value == {"bob": 9}
    assert metadata["listeners_without_authorization"].value == ["default"]
    assert metadata["response_file"].value == "none"
    assert _landed_track_ids(listeners.Listener("bob", data).landing_path / "recently_played") == bobs
