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
                          timeout=600, input=input_text)


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


@pytest.mark.slow
def test_each_listener_of_a_shared_warehouse_gets_what_a_warehouse_of_its_own_gives(small_history, tmp_path):
    """Two listeners in two zones, one warehouse and one build: each published file equals, table by table and row by
    row, the marts of an installation fed only that listener's exports, matches the synthetic truth, and names none of
    the other listener's tracks."""
    from test_incremental import Pipeline, _differences

    from spotify_assets.lib.exports.landing import receive_export
    from spotify_assets.lib.publishing.publish import connect_published
    from spotify_assets.lib.synthetic.exports import SyntheticHistory
    from spotify_assets.lib.synthetic.oracle import Oracle, compare_with_marts

    bobs_history = SyntheticHistory.generate(plays=1_500, seed=23, listener_timezone="America/New_York")
    bobs_history.write_exports(tmp_path / "bobs_exports")
    carols_history = SyntheticHistory.generate(plays=1_000, seed=31, listener_timezone="Asia/Tokyo")
    carols_history.write_exports(tmp_path / "carols_exports")
    zones = {"default": "Europe/Berlin", "bob": "America/New_York"}
    histories = {"default": small_history, "bob": bobs_history}

    # Bob and Carol share with friends; the default listener does not.
    shared = Pipeline(tmp_path / "shared" / "data", zone=zones["default"])
    listeners.add(shared.settings.data_path, "bob", {"timezone": zones["bob"], "share_with_friends": "true"})
    listeners.add(shared.settings.data_path, "carol", {"timezone": "Asia/Tokyo", "share_with_friends": "true"})
    for name, history in {**histories, "carol": carols_history}.items():
        for export in history.exports:
            landed = receive_export(export.path, shared.settings.for_listener(name).exports_landing_path)
            shared.instance.add_dynamic_partitions("spotify_exports", [landed.export_hash])
            from dagster import materialize

            from spotify_assets.defs.exports.assets import import_spotify_export
            assert materialize([import_spotify_export], partition_key=landed.export_hash, resources=shared.resources,
                               instance=shared.instance).success
    shared.build()

    for name, history in histories.items():
        alone = Pipeline(tmp_path / f"{name}_alone" / "data", zone=zones[name])
        for export in history.exports:
            alone.import_(export.path)
        alone.build()
        published = shared.settings.for_listener(name).published_marts_path
        differences = _differences(published, alone.settings.published_marts_path)
        # Alone, nobody shares with bob; here carol does (checked below).
        assert {table: rows for table, rows in differences.items() if not table.startswith("mart_friends_")} == {}
        assert bool(differences) == (name == "bob"), (name, differences)
        with connect_published(published) as connection:
            compared, mismatches = compare_with_marts(Oracle(history, zones[name]), connection)
            assert mismatches == [] and compared > 100, (name, mismatches[:5])
            assert "listener" not in {column for (column,) in connection.execute(
                "SELECT DISTINCT column_name FROM duckdb_columns() WHERE schema_name = 'main'").fetchall()}

    # Nothing of the one in the other's file: every text value of bob's file, searched for the tracks only the default
    # listener played (their URIs, and their artist and name as a track key joins them; the generator's few words
    # make the same names for other tracks), and the other way round.
    from spotify_assets.lib.identity import normalize_name

    def tracks(history) -> set[str]:
        return {play.uri for play in history.plays if play.kind == "music" and play.uri}

    def keys(history, uris: set[str]) -> set[str]:
        return {normalize_name(play.item.artist) + chr(31) + normalize_name(play.item.name)
                for play in history.plays if play.kind == "music" and play.uri in uris}

    def texts(path) -> str:
        with connect_published(path) as connection:
            found = []
            for table, column in connection.execute(
                    "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main' "
                    "AND data_type IN ('VARCHAR', 'VARCHAR[]')").fetchall():
                found += [str(value) for (value,) in connection.execute(f'SELECT DISTINCT "{column}" FROM "{table}"').fetchall()]
            return "\n".join(found)

    only_default = tracks(small_history) - tracks(bobs_history)
    only_bob = tracks(bobs_history) - tracks(small_history)
    assert len(only_default) > 50 and len(only_bob) > 50
    bobs_texts = texts(shared.settings.for_listener("bob").published_marts_path)
    defaults_texts = texts(shared.settings.published_marts_path)
    assert [uri for uri in tracks(bobs_history) if uri in bobs_texts]  # the search finds what is there
    assert not [uri for uri in only_default if uri in bobs_texts]
    assert not [uri for uri in only_bob if uri in defaults_texts]
    # Track keys, as whole values of every column holding track keys (an album key can read like another artist's
    # track key: the generator names albums and tracks from the same words).
    def track_keys(path) -> set[str]:
        with connect_published(path) as connection:
            return {value for table, column in connection.execute(
                        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main' "
                        "AND column_name IN ('track_key', 'item_key', 'candidate_key')").fetchall()
                    for (value,) in connection.execute(f'SELECT DISTINCT "{column}" FROM "{table}"').fetchall()}

    default_keys = keys(small_history, only_default) - keys(bobs_history, tracks(bobs_history))
    bob_keys = keys(bobs_history, only_bob) - keys(small_history, tracks(small_history))
    bobs_track_keys = track_keys(shared.settings.for_listener("bob").published_marts_path)
    assert default_keys and bob_keys & bobs_track_keys  # the search finds what is there
    assert not default_keys & bobs_track_keys
    assert not bob_keys & track_keys(shared.settings.published_marts_path)

    # Friends: the overlaps equal plain Python over the two published dim_artist tables (each checked against the truth
    # above for bob); artists to try are carol's 20 most streamed that bob never streamed.
    def artist_streams(path) -> dict[str, tuple[str, int]]:
        with connect_published(path) as connection:
            return {key: (name, streams) for key, name, streams in connection.execute(
                "SELECT artist_key, artist_name, streams FROM dim_artist WHERE streams > 0").fetchall()}

    bob_artists = artist_streams(shared.settings.for_listener("bob").published_marts_path)
    carol_artists = artist_streams(shared.settings.for_listener("carol").published_marts_path)
    bob_total, carol_total = sum(s for _, s in bob_artists.values()), sum(s for _, s in carol_artists.values())
    overlap = sum(min(bob_artists[key][1] / bob_total, carol_artists[key][1] / carol_total)
                  for key in bob_artists.keys() & carol_artists.keys())
    carols_top = sorted(carol_artists.items(), key=lambda item: (-item[1][1], item[1][0].encode()))[:20]
    with connect_published(shared.settings.for_listener("bob").published_marts_path) as connection:
        (friend, artist_overlap, shared_artists), = connection.execute(
            "SELECT friend, artist_overlap, shared_artists FROM mart_friends_taste_overlap").fetchall()
        assert friend == "carol" and shared_artists == len(bob_artists.keys() & carol_artists.keys())
        assert abs(artist_overlap - overlap) < 1e-9 and 0 < overlap < 1
        to_try = connection.execute("SELECT artist_key FROM mart_friends_artists_to_try ORDER BY friend_rank").fetchall()
        assert [key for (key,) in to_try] == [key for key, _ in carols_top if key not in bob_artists]
        assert {friend for (friend,) in connection.execute("SELECT friend FROM mart_friends_week").fetchall()} <= {"carol"}
    with connect_published(shared.settings.published_marts_path) as connection:  # the default listener did not opt in
        for table in ("mart_friends_taste_overlap", "mart_friends_week", "mart_friends_artists_to_try"):
            assert connection.execute(f"SELECT count(*) FROM {table}").fetchall() == [(0,)]
    assert not [uri for uri in tracks(carols_history) - tracks(small_history) if uri in defaults_texts]


@pytest.mark.slow
def test_a_second_listener_from_the_command_line_and_its_removal(small_history, tmp_path):
    """`listener add`, `import --listener`, `summary --listener`, then `listener remove`: its landing, raw rows and
    marts go, and the default listener's marts are as they were."""
    import duckdb

    from spotify_assets.lib.synthetic.exports import SyntheticHistory

    data_dir = tmp_path / "data"
    bobs = SyntheticHistory.generate(plays=1_000, seed=29, listener_timezone="Asia/Tokyo")
    bobs.write_exports(tmp_path / "bobs")
    assert _run(data_dir, "import", str(small_history.exports[0].path)).returncode == 0
    assert _run(data_dir, "listener", "add", "bob", "--timezone", "Asia/Tokyo").returncode == 0
    imported = _run(data_dir, "import", "--listener", "bob", str(bobs.exports[0].path))
    assert imported.returncode == 0, imported.stderr
    assert "listening history (Asia/Tokyo)" in imported.stdout
    assert (data_dir / "listeners" / "bob" / "landing" / "exports").is_dir()
    bobs_file = data_dir / "marts" / "bob.duckdb"
    with duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True) as connection:
        before = connection.execute("SELECT count(*), sum(ms_played) FROM fct_plays").fetchall()
    with duckdb.connect(str(bobs_file), read_only=True) as connection:
        assert connection.execute("SELECT timezone FROM warehouse_settings").fetchall() == [("Asia/Tokyo",)]
        assert connection.execute("SELECT count(*) FROM fct_plays").fetchall()[0][0] > 100
    bobs_report = (data_dir / "listeners" / "bob" / "reports" / "listening_report.html").read_text()
    assert "Asia/Tokyo" in bobs_report
    summary = _run(data_dir, "summary", "--listener", "bob")
    assert bobs.exports[0].path.name in summary.stdout and "Asia/Tokyo" in summary.stdout

    removed = _run(data_dir, "listener", "remove", "bob", "--yes")
    assert removed.returncode == 0, removed.stderr
    assert not bobs_file.exists() and not (data_dir / "listeners" / "bob").exists()
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM raw.export_imports WHERE listener = 'bob'").fetchall() == [(0,)]
        assert connection.execute("SELECT count(*) FROM raw.extended_music_streams WHERE _export_hash NOT IN "
                                  "(SELECT export_hash FROM raw.export_imports)").fetchall() == [(0,)]
    with duckdb.connect(str(data_dir / "warehouse_marts.duckdb"), read_only=True) as connection:
        assert connection.execute("SELECT DISTINCT listener FROM fct_plays").fetchall() == [("default",)]
    with duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True) as connection:
        assert connection.execute("SELECT count(*), sum(ms_played) FROM fct_plays").fetchall() == before


def test_enrichment_asks_about_every_listeners_music_once(demo_data_dir, tmp_path):
    """Last.fm, the Spotify catalog and ReccoBeats are asked about what any listener plays (it is asked once for the
    installation): a track only bob plays is a candidate, and a track both play is one candidate, not two."""
    import shutil

    import duckdb

    from spotify_assets.defs.audio_features.assets import reccobeats_candidates
    from spotify_assets.defs.catalog.assets import lookups_pending
    from spotify_assets.defs.lastfm.assets import artist_candidates, track_candidates
    from spotify_assets.settings import SpotifySettings

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(demo_data_dir / "marts.duckdb", data_dir / "marts.duckdb")
    settings = SpotifySettings(data_dir=str(data_dir))
    alone = (track_candidates(settings), artist_candidates(settings), reccobeats_candidates(settings),
             lookups_pending(settings))
    listeners.add(data_dir, "bob", {})
    bobs = data_dir / "marts" / "bob.duckdb"
    bobs.parent.mkdir()
    shutil.copyfile(demo_data_dir / "marts.duckdb", bobs)
    with duckdb.connect(str(bobs)) as connection:
        connection.execute("INSERT INTO dim_track SELECT * REPLACE ('only bob' || chr(31) || 'his song' AS track_key, "
                           "'His Song' AS track_name, 'Only Bob' AS artist_name, 10 ** 6 AS streams) FROM dim_track "
                           "LIMIT 1")
        connection.execute("INSERT INTO fct_plays SELECT * REPLACE ('spotify:track:onlybobs' AS track_uri, "
                           "NULL AS api_record_id) FROM fct_plays WHERE is_stream LIMIT 1")
    tracks = track_candidates(settings)
    assert tracks[0] == ("only bob\x1fhis song", "Only Bob", "His Song")  # the most streamed, of all listeners
    assert tracks[1:] == alone[0] and len({key for key, *_ in tracks}) == len(tracks)
    assert artist_candidates(settings) == alone[1]  # the same artists in both files: each asked once
    assert "onlybobs" in reccobeats_candidates(settings) and len(reccobeats_candidates(settings)) == len(alone[2]) + 1
    assert lookups_pending(settings) == alone[3] + 1


@pytest.mark.slow
def test_a_listeners_removal_takes_its_raw_rows_in_the_warehouse_pool(demo_data_dir, tmp_path):
    """`listener remove` deletes the listener's remaining raw rows (its polls, Spotify's view of it) in a run in the
    warehouse pool, as every writer does: while a build holds the pool's one slot it waits, and once the slot is free
    the rows go and the warehouse is rebuilt without them."""
    import shutil
    import time
    from datetime import datetime

    import duckdb
    from dagster import DagsterInstance

    from spotify_assets.lib.raw_tables import RECENTLY_PLAYED_ITEMS
    from spotify_assets.lib.warehouse import WAREHOUSE_POOL, warehouse_connection
    from spotify_assets.settings import SpotifySettings

    data_dir = tmp_path / "data"
    shutil.copytree(demo_data_dir, data_dir)
    listeners.add(data_dir, "bob", {})
    with warehouse_connection(SpotifySettings(data_dir=str(data_dir))) as connection:  # a poll of bob's, loaded
        played = dict.fromkeys(RECENTLY_PLAYED_ITEMS.column_names) | {
            "played_at": datetime(2026, 3, 1, 12), "track_id": "bobs", "track_name": "Bob's Song",
            "_response_file": "bob.json", "_item_index": 0, "_loaded_at": datetime(2026, 3, 1, 12), "listener": "bob"}
        RECENTLY_PLAYED_ITEMS.insert(connection, [RECENTLY_PLAYED_ITEMS.row(**played)])

    def bobs_rows() -> int:
        with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as connection:
            return connection.execute(f"SELECT count(*) FROM {RECENTLY_PLAYED_ITEMS.qualified_name} "
                                      "WHERE listener = 'bob'").fetchone()[0]

    assert bobs_rows() == 1
    storage = DagsterInstance.from_config(str(data_dir / "dagster_home")).event_log_storage
    assert storage.claim_concurrency_slot(WAREHOUSE_POOL, "a-build-in-progress", "warehouse_models").is_claimed
    process = subprocess.Popen([str(Path(sys.executable).with_name("spotify-assets")), "listener", "remove", "bob",
                                "--yes"], env=cli_environment(data_dir), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(20)
        assert process.poll() is None and bobs_rows() == 1  # waiting for the slot, not writing meanwhile
    finally:
        storage.free_concurrency_slot_for_step("a-build-in-progress", "warehouse_models")
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    assert bobs_rows() == 0 and not (data_dir / "listeners" / "bob").exists()
    with duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True) as marts:
        assert marts.execute("SELECT count(*) FROM fct_plays").fetchone()[0] > 0  # the default listener's, rebuilt
