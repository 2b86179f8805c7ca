"""A catalog file of audio features (counting rules, section 11): read with its bad rows quarantined, matched to the
history by Spotify id, then ISRC, then names, and the mood marts against plain Python over the synthetic truth."""

import csv
import hashlib
from collections import Counter

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from spotify_assets.definitions import defs
from spotify_assets.defs.audio_features.assets import catalog_file_tracks
from spotify_assets.defs.exports.assets import import_spotify_export
from spotify_assets.defs.partitions import spotify_export_partitions
from spotify_assets.defs.publishing.assets import published_marts_database
from spotify_assets.defs.transformations.assets import warehouse_models
from spotify_assets.lib.audio_features.catalog_file import (
    CatalogFileError,
    land_catalog_file,
    landed_catalog_files,
    read_catalog_file,
)
from spotify_assets.lib.exports.landing import receive_export
from spotify_assets.lib.raw_tables import create_raw_tables
from spotify_assets.lib.synthetic.oracle import Oracle, normalize

HEADER = ["track_id", "artists", "album_name", "track_name", "isrc", "danceability", "energy", "valence", "tempo",
          "acousticness", "loudness"]


def _feature(text: str, salt: str) -> float:
    return int(hashlib.sha256((salt + text).encode()).hexdigest()[:6], 16) / 0xFFFFFF


def test_rows_are_read_by_their_names_and_bad_ones_quarantined_with_every_reason(tmp_path):
    path = tmp_path / "Tracks.CSV"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ID", "Name", "Artists", "Danceability", "Energy", "Valence", "Tempo"])
        writer.writerow(["spotify:track:abc", "Comedy", "Gen Hoshino", "0.676", "0.461", "0.715", "87.9"])
        writer.writerow(["def", "Ghost", "['Ben Woodward', 'Guest']", "0.42", "", "0.267", "77.4"])
        writer.writerow(["ghi", "Bad", "A;B", "high", "1.7", "0.5", "120"])
        writer.writerow(["jkl", "", "Nobody", "0.5", "0.5", "0.5", "inf"])
        writer.writerow(["mno", "Loud", '["Tyler, The Creator"]', "0.5", "0.5", "0.5", "300"])
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    create_raw_tables(connection)
    landed = land_catalog_file(path, tmp_path / "landing")
    assert land_catalog_file(path, tmp_path / "landing") == landed  # the same content lands once
    assert read_catalog_file(connection, landed) == (3, 2)
    assert connection.execute("SELECT row_index, track_id, track_name, artist_name, energy, tempo "
                              "FROM raw.catalog_file_tracks ORDER BY row_index").fetchall() == [
        (0, "abc", "Comedy", "Gen Hoshino", 0.461, 87.9), (1, "def", "Ghost", "Ben Woodward", None, 77.4),
        (4, "mno", "Loud", "Tyler, The Creator", 0.5, 300.0)]
    assert connection.execute("SELECT row_index, reason FROM raw.catalog_file_quarantine ORDER BY 1").fetchall() == [
        (2, "danceability is not a number; energy 1.7 is outside 0..1"),
        (3, "no track name; tempo inf is outside 0..300")]
    assert read_catalog_file(connection, landed) == (3, 2)  # read again: replaced, not doubled
    assert connection.execute("SELECT count(*) FROM raw.catalog_file_tracks").fetchall() == [(3,)]
    parquet = tmp_path / "tracks.parquet"
    connection.execute(f"COPY (SELECT 'x' AS track_name, 'Y' AS artist_name, 0.3 AS valence, 0.9 AS energy) "
                       f"TO '{parquet}' (FORMAT parquet)")
    assert read_catalog_file(connection, land_catalog_file(parquet, tmp_path / "landing")) == (1, 0)
    assert len(landed_catalog_files(tmp_path / "landing")) == 2
    not_a_catalog = tmp_path / "notes.csv"
    not_a_catalog.write_text("a,b\n1,2\n")
    with pytest.raises(CatalogFileError, match="no column for the track name"):
        read_catalog_file(connection, land_catalog_file(not_a_catalog, tmp_path / "landing"))


def _catalog_rows(history) -> list[list]:
    """A catalog file for the small history: half its tracks by Spotify id (under another title), half by name alone
    (in capitals), an ISRC no play knows, tracks never played, and malformed rows."""
    tracks = sorted({play.item for play in history.plays if play.kind == "music"}, key=lambda t: t.uri)
    rows = []
    for number, track in enumerate(tracks):
        values = [round(_feature(track.uri, f), 4) for f in ("danceability", "energy", "valence", "acousticness")]
        if number % 2 == 0:
            rows.append([track.uri.rsplit(":", 1)[-1], track.artist, track.album, f"Title {number}", "", *values[:3],
                         120, values[3], -7])
        else:
            rows.append(["", track.artist.upper(), track.album, track.name.upper(), "", *values[:3], 120, values[3], -7])
    rows.append(["", "Unknown Artist", "X", "Isrc Only", "ZZZ000000001", 0.9, 0.9, 0.9, 100, 0.5, -5])
    rows += [["", "Unknown Artist", "X", f"Never Played {n}", "", 0.5, 0.5, 0.5, 100, 0.5, -5] for n in range(5)]
    rows += [["", "Broken", "X", "Broken", "", 2.5, 0.5, 0.5, 100, 0.5, -5],
             ["", "", "X", "No Artist", "", 0.5, 0.5, 0.5, 100, 0.5, -5]]
    return rows


def _expected_features(rows: list[list], oracle: Oracle) -> dict[str, dict]:
    """The rule in plain Python: per track key, the row that meets it by the Spotify id of a URI its plays carry, else by
    the key of its names; the first row of the better level."""
    uris = {}
    for play in oracle.plays:
        if play.uri:
            uris.setdefault(play.track_key, set()).add(play.uri.rsplit(":", 1)[-1])
    played = {play.track_key for play in oracle.plays}
    best = {}
    for index, row in enumerate(rows):
        track_id, artist, _, name = row[:4]
        if not artist or not name or not 0 <= row[5] <= 1:
            continue
        for key in played:
            level = 1 if track_id and track_id in uris.get(key, ()) else \
                3 if normalize(artist) + "\x1f" + normalize(name) == key else None
            if level and (key not in best or (level, index) < best[key][0]):
                best[key] = ((level, index), dict(zip(("danceability", "energy", "valence"), row[5:8]),
                                                  acousticness=row[9]))
    return {key: values for key, (_, values) in best.items()}


@pytest.fixture(scope="module")
def featured_marts(small_history, tmp_path_factory):
    from spotify_assets.settings import SpotifySettings

    folder = tmp_path_factory.mktemp("features")
    settings = SpotifySettings(data_dir=str(folder / "data"), timezone="UTC")
    rows = _catalog_rows(small_history)
    path = folder / "kaggle_tracks.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    instance = DagsterInstance.ephemeral()
    resources = {"spotify_settings": settings, "dbt": defs.resources["dbt"]}
    for export in small_history.exports:
        landed = receive_export(export.path, settings.exports_landing_path)
        instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
        assert materialize([import_spotify_export], partition_key=landed.export_hash, resources=resources,
                           instance=instance).success
    # The warehouse is built before the catalog file arrives: the file's features reach the plays already built.
    assert materialize([warehouse_models, published_marts_database], resources=resources, instance=instance).success
    land_catalog_file(path, settings.landing_path)
    read = materialize([catalog_file_tracks], resources=resources, instance=instance)
    assert read.success
    checks = read.get_asset_check_evaluations()
    assert len(checks) == 1 and not checks[0].passed and "row " in checks[0].description
    assert materialize([warehouse_models, published_marts_database], resources=resources, instance=instance).success
    oracle = Oracle(small_history, "UTC")
    with duckdb.connect(str(settings.published_marts_path), read_only=True) as marts:
        yield marts, oracle, _expected_features(rows, oracle)


def test_every_track_gets_the_features_of_the_row_that_meets_it_first(featured_marts):
    marts, oracle, expected = featured_marts
    got = {key: {"danceability": d, "energy": e, "valence": v, "acousticness": a}
           for key, d, e, v, a in marts.execute(
               "SELECT track_key, danceability, energy, valence, acousticness FROM dim_track "
               "WHERE features_source = 'catalog_file'").fetchall()}
    assert got == expected and len(expected) > 50
    assert marts.execute("SELECT count(*) FROM dim_track WHERE features_source IS NULL").fetchall() == [
        (len({p.track_key for p in oracle.plays} - set(expected)),)]


def test_each_plays_mood_and_the_mood_marts_equal_plain_python(featured_marts):
    marts, oracle, expected = featured_marts

    def quadrant(key):
        values = expected.get(key)
        if values is None:
            return None
        return {(True, True): "happy-energetic", (True, False): "calm-content", (False, True): "tense-angry",
                (False, False): "sad-low"}[(values["valence"] >= 0.5, values["energy"] >= 0.5)]

    assert Counter(marts.execute("SELECT mood FROM fct_plays").fetchall()) == Counter(
        (quadrant(p.track_key),) for p in oracle.plays)
    cells = {(w, h): (s, f, q) for w, h, s, f, *q in marts.execute(
        "SELECT iso_weekday, local_hour, streams, streams_with_features, happy_energetic, calm_content, tense_angry, "
        "sad_low FROM mart_mood_weekday_hour").fetchall()}
    truth = {}
    for play in oracle.streams:
        cell = truth.setdefault((play.iso_weekday, play.local_hour), [0, 0, Counter()])
        cell[0] += 1
        mood = quadrant(play.track_key)
        if mood:
            cell[1] += 1
            cell[2][mood] += 1
    assert len(cells) == 168
    for (weekday, hour), (streams, with_features, quadrants) in cells.items():
        s, f, counts = truth.get((weekday, hour), [0, 0, Counter()])
        assert (streams, with_features) == (s, f)
        assert quadrants == [counts[m] for m in ("happy-energetic", "calm-content", "tense-angry", "sad-low")]
    monthly = marts.execute("SELECT month, streams, coverage, mean_valence FROM mart_mood_monthly ORDER BY month").fetchall()
    for month, streams, coverage, mean_valence in monthly:
        in_month = [p for p in oracle.streams if (p.local_date.year, p.local_date.month) == (month.year, month.month)]
        featured = [expected[p.track_key]["valence"] for p in in_month if p.track_key in expected]
        assert streams == len(in_month) and coverage == pytest.approx(len(featured) / len(in_month))
        assert mean_valence == (pytest.approx(sum(featured) / len(featured)) if featured else None)
