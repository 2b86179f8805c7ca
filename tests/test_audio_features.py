"""A catalog file of audio features (counting rules, section 11): read with its bad rows quarantined, matched to the
history by Spotify id, then ISRC, then names, and the mood marts against plain Python over the synthetic truth."""

import csv
import os
from collections import Counter

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from spotify_assets.definitions import defs
from spotify_assets.defs.audio_features.assets import (
    catalog_file_tracks,
    raw_reccobeats_audio_features,
    reccobeats_audio_features,
)
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
from spotify_assets.lib.simulated.reccobeats import SimulatedReccoBeats
from spotify_assets.lib.synthetic.catalog_file import write_catalog_file
from spotify_assets.lib.synthetic.oracle import Oracle, normalize


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


@pytest.fixture(scope="module")
def featured_marts(small_history, tmp_path_factory):
    from spotify_assets.settings import SpotifySettings

    folder = tmp_path_factory.mktemp("features")
    settings = SpotifySettings(data_dir=str(folder / "data"), timezone="UTC")
    path = folder / "kaggle_tracks.csv"
    rows = write_catalog_file(small_history, path)
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
    # ReccoBeats knows the 30 most streamed tracks with a URI but two; its features win over the file's.
    oracle = Oracle(small_history, "UTC")
    by_streams = Counter(p.uri.rsplit(":", 1)[-1] for p in oracle.streams if p.uri)
    top = sorted(by_streams, key=lambda track_id: (-by_streams[track_id], track_id))[:30]
    known = {track_id: {"danceability": 0.11, "energy": 0.22 + n / 1000, "valence": 0.91, "acousticness": 0.5,
                        "tempo": 99.5, "loudness": -6.0} for n, track_id in enumerate(top) if n not in (3, 7)}
    with SimulatedReccoBeats(known) as reccobeats:
        os.environ["RECCOBEATS_API_BASE_URL"] = reccobeats.base_url
        os.environ["RECCOBEATS_LOOKUPS_PER_RUN"] = "30"
        reccobeats.inject(429, {"Retry-After": "0.01"})
        try:
            asked = materialize([reccobeats_audio_features], resources=resources, instance=instance)
            again = materialize([reccobeats_audio_features], resources=resources, instance=instance)
        finally:
            del os.environ["RECCOBEATS_API_BASE_URL"], os.environ["RECCOBEATS_LOOKUPS_PER_RUN"]
    metadata = asked.get_asset_materialization_events()[0].materialization.metadata
    assert (metadata["looked_up"].value, metadata["found"].value, metadata["requests"].value) == (30, 28, 2)
    assert reccobeats.requests[1] == top  # most streamed first, 30 ids in one call (after the 429)
    assert again.success and len(reccobeats.requests) == 3
    asked_ids = [track_id for request in reccobeats.requests[1:] for track_id in request]
    assert len(asked_ids) == len(set(asked_ids)) == 60  # the next 30 the next run: none asked twice
    read = materialize([catalog_file_tracks, raw_reccobeats_audio_features], resources=resources, instance=instance)
    assert read.success
    checks = read.get_asset_check_evaluations()
    assert len(checks) == 1 and not checks[0].passed and "row " in checks[0].description
    assert materialize([warehouse_models, published_marts_database], resources=resources, instance=instance).success
    with duckdb.connect(str(settings.published_marts_path), read_only=True) as marts:
        yield marts, oracle, oracle.catalog_features(rows, known)


def test_every_track_gets_the_features_of_the_row_that_meets_it_first(featured_marts):
    marts, oracle, expected = featured_marts
    got = {key: {"danceability": d, "energy": e, "valence": v, "acousticness": a}
           for key, d, e, v, a in marts.execute(
               "SELECT track_key, danceability, energy, valence, acousticness FROM dim_track "
               "WHERE features_source IS NOT NULL").fetchall()}
    assert got == expected and len(expected) > 50
    sources = dict(marts.execute("SELECT features_source, count(*) FROM dim_track GROUP BY 1").fetchall())
    assert 20 <= sources["reccobeats"] <= 28 and sources["catalog_file"] > 50
    assert marts.execute("SELECT count(*) FROM dim_track WHERE features_source IS NULL").fetchall() == [
        (len({p.track_key for p in oracle.plays} - set(expected)),)]


def test_each_plays_mood_and_the_mood_marts_equal_plain_python(featured_marts):
    marts, oracle, features = featured_marts
    assert Counter(marts.execute("SELECT mood FROM fct_plays").fetchall()) == Counter(
        (oracle.mood(features.get(p.track_key)),) for p in oracle.plays)
    assert len(set(oracle.mood(f) for f in features.values())) == 4  # every quadrant is planted
    cells = oracle.mood_cells(features, lambda play: (play.iso_weekday, play.local_hour))
    got = {(w, h): (s, f, (a, b, c, d), v) for w, h, s, f, a, b, c, d, v in marts.execute(
        "SELECT iso_weekday, local_hour, streams, streams_with_features, happy_energetic, calm_content, tense_angry, "
        "sad_low, mean_valence FROM mart_mood_weekday_hour WHERE streams > 0").fetchall()}
    assert got.keys() == cells.keys()
    for cell, (streams, with_features, quadrants, mean_valence) in cells.items():
        assert got[cell][:3] == (streams, with_features, quadrants)
        assert got[cell][3] == (None if mean_valence is None else pytest.approx(mean_valence))
    for month, streams, coverage, mean_valence in marts.execute(
            "SELECT month, streams, coverage, mean_valence FROM mart_mood_monthly").fetchall():
        s, f, _, v = oracle.mood_cells(features, lambda play: play.local_date.replace(day=1))[month]
        assert (streams, coverage) == (s, pytest.approx(f / s)) and mean_valence == (None if v is None else pytest.approx(v))


def test_reccobeats_answers_land_unchanged_in_batches_of_40_through_faults(tmp_path):
    from spotify_assets.lib.audio_features.reccobeats import (
        ReccoBeatsClient,
        asked_ids,
        feature_sets,
        land_answers,
        landed_answers,
    )
    from spotify_assets.lib.http_retry import RetryPolicy

    ids = [f"track{n:017d}" for n in range(95)]
    known = {track_id: {"danceability": 0.5, "energy": 0.25, "valence": 0.75} for track_id in ids[::2]}
    sleeps = []
    with SimulatedReccoBeats(known) as fake:
        fake.inject(503)
        fake.inject(200, body=b"<html>busy</html>")
        fake.inject(429, {"retry-after": "3"})
        with ReccoBeatsClient(fake.base_url, RetryPolicy(backoff_seconds=0.01), sleep=sleeps.append) as client:
            assert land_answers(client, tmp_path, ids) == len(known)  # ids without features are left out
        assert [len(request) for request in fake.requests] == [40, 40, 40, 40, 40, 15]
        assert 3 in sleeps
    answers = landed_answers(tmp_path)
    assert [len(asked) for _, asked in answers] == [40, 40, 15] and asked_ids(tmp_path) == set(ids)
    received = [s for answer, _ in answers for s in feature_sets(answer.read_bytes())]
    assert sorted(s["spotify_id"] for s in received) == sorted(known) and received[0]["energy"] == 0.25
    with pytest.raises(ValueError):
        ReccoBeatsClient("http://127.0.0.1:1").audio_features_response(ids[:41])


def test_the_modes_found_are_the_planted_ones_and_the_same_every_time(small_history):
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from spotify_assets.lib.audio_features.modes import fit_modes
    from spotify_assets.lib.synthetic.catalog_file import catalog_rows, planted_modes

    planted = planted_modes(small_history)
    by_artist = {artist.upper(): mode for artist, mode in planted.items()} | planted
    rows = [row for row in catalog_rows(small_history) if row[1] in by_artist]
    values = np.array([[row[8], row[7], row[10], row[6]] for row in rows])  # valence, energy, acousticness, danceability
    weights = np.array([1.0 + (index % 7) for index in range(len(rows))])
    first, second = fit_modes(values, weights), fit_modes(values, weights)
    assert first == second and first.k == 3 and first.silhouette > 0.5
    assert adjusted_rand_score([by_artist[row[1]] for row in rows], first.labels) >= 0.9


def test_each_play_has_its_tracks_mode_and_recommendations_explain_themselves(featured_marts):
    marts, oracle, features = featured_marts
    modes = marts.execute("SELECT mode_id, tracks, streams, centre_valence, centre_energy FROM mart_listening_modes "
                          "ORDER BY mode_id").fetchall()
    assert len(modes) >= 2 and [m[0] for m in modes] == list(range(1, len(modes) + 1))
    assert [m[3] for m in modes] == sorted((m[3] for m in modes), reverse=True)  # numbered by valence
    per_mode = dict(marts.execute("SELECT mode_id, count(*) FROM fct_plays WHERE is_stream AND mode_id IS NOT NULL "
                                  "GROUP BY 1").fetchall())
    assert {m[0]: m[2] for m in modes} == per_mode
    assert sum(m[2] for m in modes) == sum(1 for p in oracle.streams if p.track_key in features)
    streamed = {p.track_key for p in oracle.streams}
    for policy in ("mirror", "coach"):
        rows = marts.execute("SELECT track_name, artist_name, score, reason_valence, reason_energy, "
                             "reason_acousticness, reason_danceability, target_mode "
                             f"FROM recommendations(policy := '{policy}', mode_id := 1, n := 5)").fetchall()
        assert len(rows) == 5 and all(row[7] == 1 for row in rows)
        assert all(abs(sum(row[3:7]) - row[2]) < 1e-12 for row in rows)  # the reasons sum to the score
        assert [row[2] for row in rows] == sorted((row[2] for row in rows), reverse=True)
        assert not {normalize(a) + "\x1f" + normalize(t) for t, a, *_ in rows} & streamed  # never streamed
    centre = marts.execute("SELECT centre_valence, centre_energy, centre_acousticness, centre_danceability "
                           "FROM mart_listening_modes WHERE mode_id = 1").fetchall()[0]
    target = (min(centre[0] + 0.25, 1.0), min(centre[1] + 0.25, 1.0), centre[2], centre[3])
    candidates = marts.execute("SELECT track_name, valence, energy, acousticness, danceability "
                               "FROM mart_catalog_candidates").fetchall()
    best = max(candidates, key=lambda c: (sum(1 - abs(v - t) for v, t in zip(c[1:], target)) / 4))
    assert marts.execute("SELECT track_name FROM recommendations(policy := 'coach', mode_id := 1, n := 1)"
                         ).fetchall() == [(best[0],)]


def test_feature_correlations_equal_numpys_on_the_same_tracks(featured_marts):
    import numpy as np

    marts, oracle, features = featured_marts

    def part(hour: int) -> str:
        return "night" if hour < 6 else "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"

    for time_of_day in ("all day", "evening"):
        streams, known, skips = Counter(), Counter(), Counter()
        for play in oracle.plays:
            if time_of_day == "all day" or part(play.local_hour) == time_of_day:
                streams[play.track_key] += play.is_stream
                known[play.track_key] += play.is_skip is not None
                skips[play.track_key] += bool(play.is_skip)
        tracks = sorted(key for key in streams if key in features)
        for feature in ("valence", "energy"):
            values = [features[key][feature] for key in tracks]
            expected = np.corrcoef(values, [streams[key] for key in tracks])[0, 1]
            rated = [key for key in tracks if known[key]]
            expected_skips = np.corrcoef([features[key][feature] for key in rated],
                                         [skips[key] / known[key] for key in rated])[0, 1]
            got = dict((measure, (n, r)) for measure, n, r in marts.execute(
                "SELECT measure, tracks, correlation FROM mart_feature_correlations WHERE feature = ? AND "
                "time_of_day = ?", [feature, time_of_day]).fetchall())
            assert got["streams"] == (len(tracks), pytest.approx(expected))
            assert got["skip_rate"] == (len(rated), pytest.approx(expected_skips))
