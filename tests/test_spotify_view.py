"""Spotify's view of you (counting rules, section 10) against the fake Spotify: top lists and playlists, paged, landed
unchanged, refetched only on a new snapshot_id, scopes, rate limits; then the marts against plain Python over the
synthetic history and the fake's own answers."""

import logging
import math
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from spotify_assets.definitions import defs
from spotify_assets.defs.exports.assets import import_spotify_export
from spotify_assets.defs.partitions import spotify_export_partitions
from spotify_assets.defs.publishing.assets import published_marts_database
from spotify_assets.defs.recently_played.assets import recently_played_responses
from spotify_assets.defs.spotify_api.resources import SpotifyApiResource
from spotify_assets.defs.spotify_view.assets import (
    playlist_responses,
    raw_playlists,
    raw_spotify_top_items,
    spotify_view_days,
    today,
    top_items_responses,
)
from spotify_assets.defs.spotify_view.schedule import spotify_view_request
from spotify_assets.defs.transformations.assets import warehouse_models
from spotify_assets.lib.exports.landing import receive_export
from spotify_assets.lib.http_retry import RetryPolicy
from spotify_assets.lib.simulated.spotify import (
    Fault,
    SimulatedSpotify,
    artist_object,
    local_file,
    playlist_entry,
    stable_id,
    track_object,
)
from spotify_assets.lib.spotify_api.client import SpotifyClient
from spotify_assets.lib.spotify_view.landing import (
    land_playlists,
    land_top_items,
    view_root,
)
from spotify_assets.lib.spotify_view.reading import playlist_item_rows, playlist_rows
from spotify_assets.lib.synthetic.oracle import SPOTIFY_WINDOW_DAYS, Oracle

ALL_SCOPES = ("user-read-recently-played", "user-top-read", "playlist-read-private", "playlist-read-collaborative")


def _client(fake: SimulatedSpotify, sleeps: list | None = None) -> SpotifyClient:
    return SpotifyClient("fake-client-id", "fake-refresh-token", "fake-client-secret", api_base_url=fake.base_url,
                         accounts_base_url=fake.base_url, retry=RetryPolicy(backoff_seconds=0.01),
                         sleep=(sleeps.append if sleeps is not None else lambda seconds: None))


def _track(number: int) -> dict:
    return track_object(f"t{number:06d}", f"Song {number}", [f"Artist {number % 7}"], "Album", 200_000, f"ISRC{number}")


def _api_requests(fake: SimulatedSpotify) -> int:
    return sum(1 for route, _, _ in fake.requests if route != "token")


def test_an_unchanged_listener_with_200_playlists_of_100_tracks_costs_ceil_200_50_plus_6_requests(tmp_path):
    with SimulatedSpotify(scopes=ALL_SCOPES) as fake:
        for number in range(200):
            fake.add_playlist(f"p{number:04d}", f"Playlist {number}", [playlist_entry(_track(n)) for n in range(100)])
        root = view_root(tmp_path)
        with _client(fake) as client:
            land_top_items(client, root, date(2026, 3, 1))
            first = land_playlists(client, root, date(2026, 3, 1))
        assert (first.playlists, len(first.fetched), first.unchanged) == (200, 200, 0)
        assert fake.calls("playlist-items") == 200 * 2  # 100 items in pages of 50
        before = _api_requests(fake)
        with _client(fake) as client:
            assert land_top_items(client, root, date(2026, 3, 2)) == 6
            second = land_playlists(client, root, date(2026, 3, 2))
        assert (second.pages, len(second.fetched), second.unchanged) == (4, 0, 200)
        assert _api_requests(fake) - before <= math.ceil(200 / 50) + 6
        # The same day again asks nothing: each day is pulled once.
        with _client(fake) as client:
            assert land_top_items(client, root, date(2026, 3, 2)) == 0
            assert land_playlists(client, root, date(2026, 3, 2)).pages == 0
        assert _api_requests(fake) - before == 10


def test_paging_snapshots_both_item_shapes_local_files_unavailable_tracks_and_rate_limits(tmp_path):
    entries = [playlist_entry(_track(n), f"2025-01-{1 + n % 28:02d}T08:00:00Z") for n in range(120)]
    entries += [playlist_entry(local_file("Home Demo", "Me", "Tapes", 123_000), is_local=True),
                playlist_entry(None),  # a track Spotify no longer has
                playlist_entry({"id": "ep1", "uri": "spotify:episode:ep1", "name": "Episode 1", "type": "episode"})]
    with SimulatedSpotify(scopes=ALL_SCOPES) as fake:
        fake.add_playlist("big", "Big", entries)
        fake.add_playlist("same", "Same", [playlist_entry(_track(1))])
        fake.add_playlist("theirs", "Someone Else's", [playlist_entry(_track(2))], owner_id="friend")
        fake.add_playlist("closed", "Closed", [playlist_entry(_track(3))], owner_id="friend", readable=False)
        for number in range(60):
            fake.add_playlist(f"x{number:03d}", f"Extra {number}", [])
        fake.inject("playlists", Fault(429, {"Retry-After": "2"}), Fault(503))
        fake.inject("playlist-items", Fault(500))
        root, sleeps = view_root(tmp_path), []
        with _client(fake, sleeps) as client:
            first = land_playlists(client, root, date(2026, 3, 1))
        assert 2 in sleeps  # Retry-After was honoured
        assert first.pages == 2 and first.playlists == 64 and len(first.unreadable) == 1
        assert "closed" in first.unreadable[0]
        rows = playlist_item_rows(root, "big", fake.playlists[0]["snapshot_id"], loaded_at=None)
        assert [r[2] for r in rows.rows] == list(range(123))  # positions across three pages
        by_position = {r[2]: r for r in rows.rows}
        assert by_position[120][12] is True and by_position[120][6] == "Home Demo"  # the local file, kept
        assert by_position[121][6] is None  # the unavailable entry, kept
        assert by_position[122][3] == "episode"
        listed = {r[2]: r for r in playlist_rows(root, date(2026, 3, 1), loaded_at=None).rows}
        assert listed["big"][9] == 123 and listed["big"][5] is True and listed["theirs"][5] is False
        assert (listed["big"][10], listed["closed"][10]) == ("landed", "unreadable")

        fake.change_playlist("big", entries[:10])
        calls = fake.calls("playlist-items")
        with _client(fake) as client:
            second = land_playlists(client, root, date(2026, 3, 2))
        assert second.fetched == ["big"] and fake.calls("playlist-items") == calls + 1  # only the changed one

        # A server that only knows the former /tracks route, with `track` entries: the same rows.
        fake.legacy_playlist_items = True
        fake.change_playlist("same", [playlist_entry(_track(1)), playlist_entry(_track(4))])
        with _client(fake) as client:
            third = land_playlists(client, root, date(2026, 3, 3))
        assert third.fetched == ["same"] and fake.calls("playlist-tracks") == 1
        legacy = playlist_item_rows(root, "same", fake.playlists[1]["snapshot_id"], loaded_at=None).rows
        assert [(r[3], r[4], r[6], r[7]) for r in legacy] == [
            ("track", "t000001", "Song 1", '[{"id": "' + stable_id("Artist 1") + '", "name": "Artist 1"}]'),
            ("track", "t000004", "Song 4", '[{"id": "' + stable_id("Artist 4") + '", "name": "Artist 4"}]')]


def _resources(settings, fake):
    return {"spotify_settings": settings, "dbt": defs.resources["dbt"],
            "spotify_api": SpotifyApiResource(client_id="fake-client-id", client_secret="fake-client-secret",
                                              refresh_token="fake-refresh-token", api_base_url=fake.base_url,
                                              accounts_base_url=fake.base_url, backoff_seconds=0.01)}


def test_a_missing_scope_is_reported_once_naming_it_and_the_poll_goes_on(settings, monkeypatch):
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", "fake-client-id")
    monkeypatch.setenv("SPOTIFY_REFRESH_TOKEN", "fake-refresh-token")
    with SimulatedSpotify(scopes=("user-read-recently-played", "playlist-read-private")) as fake:
        fake.add_playlist("mine", "Mine", [playlist_entry(_track(1))])
        instance, resources = DagsterInstance.ephemeral(), _resources(settings, fake)
        day = today(settings).isoformat()
        first = materialize([top_items_responses, playlist_responses], partition_key=day, resources=resources,
                            instance=instance, raise_on_error=False)
        failures = [event for event in first.all_events if event.event_type_value == "STEP_FAILURE"]
        assert len(failures) == 1
        message = failures[0].step_failure_data.error.message
        assert "lacks the scope user-top-read" in message and "spotify-assets auth" in message
        assert "fake-refresh-token" not in message
        assert fake.calls("top") == 0  # the token said so: nothing asked
        assert [e.asset_key.path[-1] for e in first.get_asset_materialization_events()] == ["playlist_responses"]

        again = materialize([top_items_responses], partition_key=day, resources=resources, instance=instance)
        assert again.success and again.get_asset_materialization_events() == []  # nothing asked, nothing reported
        assert spotify_view_request(settings).__class__.__name__ == "SkipReason"  # playlists done, top lists blocked

        fake.add_play(fake.clock_ms() - 60_000, _track(9))
        assert materialize([recently_played_responses], resources=resources, instance=instance).success

        past = materialize([top_items_responses], partition_key=(today(settings) - timedelta(days=3)).isoformat(),
                           resources=resources, instance=instance, raise_on_error=False)
        assert not past.success
        assert "answers only for today" in str(past.all_events)


# ------------------------------------------------------------------ the marts against the oracle

def _spotify_lists(oracle: Oracle, day: date) -> dict[tuple[str, str], list[dict]]:
    """Spotify's lists for `day`: each window's own top items with neighbours swapped (Spotify weighs what we cannot
    see), a name spelled in other case, and items never streamed in the window."""
    lists = {}
    for time_range, days in SPOTIFY_WINDOW_DAYS.items():
        start = day - timedelta(days=days - 1) if days else date.min
        for item_type, key in (("artists", "artist_key"), ("tracks", "track_key")):
            own = [k for k, _ in oracle.top(key, start, day, n=44)]
            for i in range(0, len(own) - 1, 2):
                own[i], own[i + 1] = own[i + 1], own[i]
            items = []
            for number, item_key in enumerate(own):
                names = oracle._names[item_key]
                if item_type == "artists":
                    items.append(artist_object(names[0].upper() if number == 3 else names[0]))
                else:
                    items.append(track_object(stable_id(item_key), names[0], [names[1], "Guest Star"], "An Album",
                                              180_000, "ISRC"))
            for number in range(50 - len(items)):
                items.append(artist_object(f"Never Heard {number}") if item_type == "artists" else
                             track_object(stable_id(f"n{number}"), f"Unheard {number}", ["Nobody"], "X", 1, "I"))
            lists[(item_type, time_range)] = items
    return lists


@pytest.fixture(scope="module")
def spotify_view_marts(small_history, tmp_path_factory):
    """The small history imported, Spotify's view of its last day landed from the fake and loaded, the warehouse built."""
    from spotify_assets.settings import SpotifySettings

    settings = SpotifySettings(data_dir=str(tmp_path_factory.mktemp("view") / "data"), timezone="UTC")
    oracle, day = Oracle(small_history, "UTC"), small_history.last_day
    streamed = [p for p in oracle.streams]
    recent = sorted({(p.track, p.artist) for p in streamed if day - timedelta(days=29) <= p.local_date <= day})
    old = sorted({(p.track, p.artist) for p in streamed} - set(recent))
    entries = [playlist_entry(track_object(stable_id(t + a), t, [a], "Al", 1, "I")) for t, a in recent[:8] + old[:5]]
    entries.append(entries[0])  # listed twice
    entries += [playlist_entry(track_object(stable_id("u1"), "Unheard Song", ["Nobody"], "X", 1, "I")),
                playlist_entry(local_file(old[5][0], old[5][1], "Tapes", 1000), is_local=True),
                playlist_entry(local_file("Garage Take", "Me", "Tapes", 1000), is_local=True),
                playlist_entry(None)]
    with SimulatedSpotify(scopes=ALL_SCOPES) as fake:
        fake.top_items = _spotify_lists(oracle, day)
        fake.add_playlist("mixed", "Mixed Feelings", entries)
        fake.add_playlist("followed", "Followed", [playlist_entry(track_object("f1", old[6][0], [old[6][1]], "A", 1, "I"))],
                          owner_id="friend")
        fake.add_playlist("closed", "Closed", [], owner_id="friend", readable=False)
        root = view_root(settings.landing_path)
        with _client(fake) as client:
            land_top_items(client, root, day)
            land_playlists(client, root, day)
        instance, resources = DagsterInstance.ephemeral(), _resources(settings, fake)
        for export in small_history.exports:
            landed = receive_export(export.path, settings.exports_landing_path)
            instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
            assert materialize([import_spotify_export], partition_key=landed.export_hash, resources=resources,
                               instance=instance).success
        assert materialize([raw_spotify_top_items, raw_playlists], partition_key=day.isoformat(), resources=resources,
                           instance=instance).success
        assert materialize([warehouse_models, published_marts_database], resources=resources, instance=instance).success
        lists = fake.top_items
    with duckdb.connect(str(settings.published_marts_path), read_only=True) as marts:
        yield marts, oracle, day, lists, entries


def test_spotify_ranks_beside_your_own_equal_plain_python(spotify_view_marts):
    marts, oracle, day, lists, _ = spotify_view_marts
    expected = oracle.spotify_compared(lists, day)
    got = {}
    for time_range, item_type, spotify_rank, own_rank in marts.execute(
            "SELECT time_range, item_type, spotify_rank, own_rank FROM mart_top_items_compared "
            "ORDER BY time_range, item_type, spotify_rank").fetchall():
        got.setdefault((time_range, item_type), []).append((spotify_rank, own_rank))
    assert got == expected
    for ranks in expected.values():  # each list has items you streamed in the window and items you did not
        assert any(own is None for _, own in ranks) and any(own is not None for _, own in ranks)
    assert marts.execute("SELECT DISTINCT snapshot_date FROM fct_spotify_top_items").fetchall() == [(day,)]
    # own_rank is what top_tracks lists over the window.
    short = marts.execute("SELECT item_name FROM mart_top_items_compared WHERE time_range = 'short_term' "
                          "AND item_type = 'track' AND own_rank = 1").fetchall()
    top = marts.execute("SELECT track_name FROM top_tracks(?, ?, n := 1)", [day - timedelta(days=27), day]).fetchall()
    assert short == top


def test_playlists_keep_every_row_and_count_what_you_play(spotify_view_marts):
    marts, oracle, day, _, entries = spotify_view_marts
    expected = oracle.playlist_listening(entries, day)
    assert marts.execute("SELECT tracks, tracks_streamed, tracks_never_streamed, streams_last_30_days "
                         "FROM mart_playlist_listening WHERE name = 'Mixed Feelings'").fetchall() == [expected]
    assert expected[3] > 0 and expected[2] == 3  # the unheard song, the garage take, the removed track
    assert marts.execute("SELECT name, owner_is_me, tracks, items_known, items_status FROM dim_playlist "
                         "ORDER BY position").fetchall() == [
        ("Mixed Feelings", True, len(entries), True, "landed"), ("Followed", False, 1, True, "landed"),
        ("Closed", False, 0, False, "unreadable")]
    never = marts.execute("SELECT position, track_name, is_local, is_unavailable "
                          "FROM playlist_tracks_never_streamed('Mixed Feelings')").fetchall()
    assert never == [(len(entries) - 4, "Unheard Song", False, False), (len(entries) - 2, "Garage Take", True, False),
                     (len(entries) - 1, None, False, True)]
    assert marts.execute("SELECT count(*) FROM bridge_playlist_track WHERE playlist_id = 'mixed'").fetchall() == [
        (len(entries),)]
    assert marts.execute("SELECT tracks_streamed FROM mart_playlist_listening WHERE name = 'Followed'").fetchall() == [
        (1,)]


# ------------------------------------------------------------------ every listener's own view

def test_every_listener_who_authorized_gets_spotifys_view_of_them_alone(settings, monkeypatch):
    """One run pulls the top lists and playlists of every listener who authorized, each with its own authorization,
    on its own local day, into its own landing; a listener whose authorization lacks a scope is a warning naming it,
    the others are pulled; each listener's published marts hold its own view and nobody else's."""
    from spotify_assets.defs.resources import resources as defined_resources
    from spotify_assets.lib import configuration, listeners

    data = settings.data_path
    data.mkdir(parents=True)
    with SimulatedSpotify(scopes=ALL_SCOPES) as fake:
        fake.top_items = {("artists", "short_term"): [artist_object("Default Favourite")]}
        fake.add_playlist("defaultmix", "Default Mix", [playlist_entry(_track(1))])
        bob = fake.add_account("bob-refresh-token")
        bob.top_items = {("artists", "short_term"): [artist_object("Bob Favourite")],
                         ("tracks", "long_term"): [track_object("bobtrack", "Bob Song", ["Bob Band"], "A", 1, "I")]}
        bob.add_playlist("bobmix", "Bob Mix", [playlist_entry(_track(2)), playlist_entry(_track(3))])
        carol = fake.add_account("carol-refresh-token")
        carol.scopes = ("user-read-recently-played", "playlist-read-private", "playlist-read-collaborative")
        carol.add_playlist("carolmix", "Carol Mix", [playlist_entry(_track(4))])
        monkeypatch.setenv("SPOTIFY_CLIENT_ID", fake.client_id)
        monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", fake.client_secret)
        monkeypatch.setenv("SPOTIFY_REFRESH_TOKEN", "fake-refresh-token")
        monkeypatch.setenv("SPOTIFY_API_BASE_URL", fake.base_url)
        monkeypatch.setenv("SPOTIFY_ACCOUNTS_BASE_URL", fake.base_url)
        # bob lives where the day starts first, carol where it starts last: their days are rarely the installation's.
        for name, zone in (("bob", "Pacific/Kiritimati"), ("carol", "Pacific/Honolulu"), ("dave", "UTC")):
            listeners.add(data, name, {"timezone": zone})
        for name in ("bob", "carol"):  # dave never authorized
            configuration.write_credentials(listeners.Listener(name, data).credentials_path,
                                            {"SPOTIFY_REFRESH_TOKEN": f"{name}-refresh-token"})
        request = spotify_view_request(settings)
        assert request.partition_key == today(settings).isoformat()
        instance = DagsterInstance.ephemeral()
        resources = {"spotify_settings": settings, "dbt": defs.resources["dbt"],
                     "spotify_api": defined_resources().resources["spotify_api"]}
        pulled = materialize([top_items_responses, playlist_responses, raw_spotify_top_items, raw_playlists],
                             partition_key=request.partition_key, resources=resources, instance=instance)
        assert pulled.success
        top_calls = fake.calls("top")
        assert top_calls == 6 + 6  # the default listener's and bob's six lists; carol's token lacks the scope
        warnings = [event.message for event in instance.all_logs(pulled.run_id) if event.level == logging.WARNING]
        assert any("listener carol:" in line and "user-top-read" in line and "auth --listener carol" in line
                   for line in warnings), warnings
        # Each listener's answers in its own landing, on its own day.
        for name in ("bob", "carol"):
            own = settings.for_listener(name)
            assert (view_root(own.landing_path) / "playlists" / today(own).isoformat()).is_dir()
        assert not (view_root(settings.for_listener("dave").landing_path)).exists()
        metadata = {event.asset_key.path[-1]: event.materialization.metadata
                    for event in pulled.get_asset_materialization_events()}
        assert metadata["playlist_responses"]["listeners_pulled"].value == 3
        assert metadata["playlist_responses"]["refetched_playlists"].value == ["defaultmix"]
        assert metadata["top_items_responses"]["listeners_pulled"].value == 2
        # The day is pulled for everybody: the schedule skips, and carol's missing scope is not asked about again.
        assert spotify_view_request(settings).skip_message.startswith("Spotify's view of you has been pulled today")
        again = materialize([top_items_responses], partition_key=request.partition_key, resources=resources,
                            instance=instance)
        assert again.success and fake.calls("top") == top_calls

        with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as warehouse:
            days = dict(warehouse.execute("SELECT listener, max(snapshot_date) FROM raw.spotify_top_items "
                                          "GROUP BY ALL").fetchall())
        assert days == {"default": today(settings), "bob": today(settings.for_listener("bob"))}
        assert materialize([warehouse_models, published_marts_database], resources=resources, instance=instance).success

    everything = {"default": ({"Default Favourite"}, {"Default Mix"}), "bob": ({"Bob Favourite", "Bob Song"}, {"Bob Mix"}),
                  "carol": (set(), {"Carol Mix"}), "dave": (set(), set())}
    for name, (items, playlists) in everything.items():
        with duckdb.connect(str(settings.for_listener(name).published_marts_path), read_only=True) as marts:
            assert {row[0] for row in marts.execute("SELECT item_name FROM fct_spotify_top_items").fetchall()} == items
            assert {row[0] for row in marts.execute("SELECT name FROM dim_playlist").fetchall()} == playlists
            assert marts.execute("SELECT count(*) FROM bridge_playlist_track").fetchone()[0] == {
                "default": 1, "bob": 2, "carol": 1, "dave": 0}[name]
    # Nobody's names reach the installation's run: its log lines and metadata name listeners, counts and the default
    # listener's own playlists only.
    shown = " ".join(str(event) for event in instance.all_logs(pulled.run_id))
    assert [name for name in ("Bob Mix", "Bob Favourite", "Bob Song", "Carol Mix", "bobmix", "carolmix")
            if name in shown] == []
    for secret in ("bob-refresh-token", "carol-refresh-token"):
        assert secret not in shown


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Europe/Berlin", "UTC", "Pacific/Pago_Pago"])
def test_todays_partition_exists_in_every_zone_at_any_hour(zone):
    """The pull's day is the listener's local day, a day after UTC's in zones ahead of it (Berlin from 23:00 UTC in
    winter): that partition must exist whatever the hour, or the schedule and the demo fail."""
    for hour in range(24):
        now = datetime(2026, 12, 7, hour, 30, tzinfo=timezone.utc)
        local_day = now.astimezone(ZoneInfo(zone)).date().isoformat()
        assert local_day in spotify_view_days.get_partition_keys(current_time=now), (zone, hour)
