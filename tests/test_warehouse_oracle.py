"""The marts against an independent oracle: plain Python over the generator's ground truth.

A synthetic history in a zone with DST is imported and built through real Dagster materializations
(import partitions, dbt build, publish); every figure is then recomputed from the true plays here,
without SQL, and compared with the published marts.
"""

import random
import unicodedata
from collections import defaultdict
from datetime import date, timedelta

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from spotify_assets.definitions import defs
from spotify_assets.defs.exports.assets import import_spotify_export
from spotify_assets.defs.partitions import spotify_export_partitions
from spotify_assets.defs.publishing.assets import published_marts_database
from spotify_assets.defs.transformations.assets import warehouse_models
from spotify_assets.lib.exports.landing import receive_export
from spotify_assets.lib.publishing.publish import connect_published
from spotify_assets.lib.synthetic.exports import SyntheticHistory
from spotify_assets.lib.synthetic.oracle import Oracle, compare_with_marts
from spotify_assets.settings import SpotifySettings

ZONE = "America/New_York"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("oracle") / "data"
    settings = SpotifySettings(data_dir=str(data_dir), timezone=ZONE)
    history = SyntheticHistory.generate(plays=8_000, seed=11, listener_timezone=ZONE)
    history.write_exports(data_dir.parent / "exports")
    instance = DagsterInstance.ephemeral()
    resources = {"spotify_settings": settings, "dbt": defs.resources["dbt"]}
    for export in history.exports:
        landed = receive_export(export.path, settings.exports_landing_path)
        instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
        assert materialize([import_spotify_export], partition_key=landed.export_hash, resources=resources,
                           instance=instance).success
    result = materialize([warehouse_models, published_marts_database], resources=resources, instance=instance)
    assert result.success
    failed = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
    assert not failed, failed
    connection = connect_published(settings.published_marts_path)
    yield Oracle(history, ZONE), connection, settings, resources, instance
    connection.close()


def test_totals(built):
    oracle, marts, *_ = built
    assert marts.execute("SELECT count(*), count_if(is_stream) FROM fct_plays").fetchall() == [
        (len(oracle.plays), len(oracle.streams))]


def test_every_weekday_hour_cell(built):
    oracle, marts, *_ = built
    rows = marts.execute("SELECT iso_weekday, local_hour, streams FROM mart_heatmap_weekday_hour").fetchall()
    assert len(rows) == 168 and {(w, h): s for w, h, s in rows} == oracle.weekday_hour()


def test_every_calendar_day(built):
    oracle, marts, *_ = built
    rows = marts.execute("SELECT local_date, iso_year, iso_week, iso_weekday, streams FROM mart_heatmap_calendar "
                         "ORDER BY local_date").fetchall()
    assert rows == oracle.calendar()


def test_year_month_and_daily_aggregates(built):
    oracle, marts, *_ = built
    rows = marts.execute("SELECT year, month, streams FROM mart_heatmap_year_month").fetchall()
    assert {(y, m): s for y, m, s in rows if s} == oracle.year_month()
    hourly = defaultdict(lambda: [0] * 24)
    for p in oracle.streams:
        hourly[p.local_date][p.local_hour] += 1
    daily = marts.execute("SELECT local_date, hourly_streams FROM agg_daily_streams WHERE streams > 0").fetchall()
    assert {d: list(h) for d, h in daily} == dict(hourly)


@pytest.mark.parametrize("start, end", [
    (date(2000, 1, 1), date(2100, 1, 1)),  # all time
    (date(2024, 1, 1), date(2024, 12, 31)),  # a calendar year
    (date(2024, 3, 10), date(2024, 11, 3)),  # DST spring to fall (US)
    (date(2024, 2, 29), date(2024, 2, 29)),  # one leap day
    (date(2024, 12, 15), date(2025, 1, 20)),  # across a year boundary
])
def test_top_ten_artists_and_tracks(built, start, end):
    oracle, marts, *_ = built
    assert marts.execute("SELECT artist_key, streams FROM top_artists(?, ?)", [start, end]).fetchall() == \
        oracle.top("artist_key", start, end)
    assert marts.execute("SELECT track_key, streams FROM top_tracks(?, ?)", [start, end]).fetchall() == \
        oracle.top("track_key", start, end)
    for order_by in ("streams", "minutes"):  # minutes: every play, skips included (section 9)
        for macro, key in (("top_artists", "artist_key"), ("top_tracks", "track_key")):
            assert marts.execute(f"SELECT {key}, streams, minutes FROM {macro}(?, ?, n := 25, order_by := ?)",
                                 [start, end, order_by]).fetchall() == oracle.top_by(key, start, end, 25, order_by)


def test_a_top_list_ranked_by_anything_else_is_an_error_naming_both(built):
    _, marts, *_ = built
    with pytest.raises(duckdb.InvalidInputException, match="order_by must be streams or minutes, not plays"):
        marts.execute("SELECT * FROM top_artists('2024-01-01', '2024-12-31', order_by := 'plays')").fetchall()


def test_hour_drilldowns(built):
    oracle, marts, *_ = built
    for local_date, hour in oracle.sample_hours():
        rows = marts.execute("SELECT track_name, artist_name, streams FROM hour_drilldown(?, ?)", [local_date, hour]).fetchall()
        got = {(unicodedata.normalize("NFC", t), unicodedata.normalize("NFC", a)): s for t, a, s in rows}
        assert got == dict(oracle.drilldown(local_date, hour)), (local_date, hour)
    assert marts.execute("SELECT count(*) FROM hour_drilldown('1999-01-01', 3)").fetchall() == [(0,)]


def test_the_packaged_oracle_comparison_finds_nothing(built):
    oracle, marts, *_ = built
    compared, mismatches = compare_with_marts(oracle, marts)
    assert compared > 168 + 365 and mismatches == []


def test_range_macros_equal_a_direct_count_over_many_random_ranges(built):
    _, marts, *_ = built
    first, last = marts.execute("SELECT min(local_date), max(local_date) FROM fct_plays").fetchall()[0]
    rng = random.Random(2024)
    artist_keys = [k for (k,) in marts.execute("SELECT artist_key FROM dim_artist ORDER BY streams DESC LIMIT 20").fetchall()]
    span = (last - first).days
    for _ in range(200):
        start = first + timedelta(days=rng.randint(-30, span))
        end = start + timedelta(days=rng.choice([0, 1, 6, 30, 45, 200, 400, 900]))
        n = rng.choice([1, 5, 10, 25])
        direct_artists = marts.execute(
            "SELECT artist_key, artist_name, count_if(is_stream) AS streams, sum(ms_played) / 60000 AS minutes "
            "FROM fct_plays WHERE local_date BETWEEN ? AND ? GROUP BY artist_key, artist_name HAVING streams > 0 "
            "ORDER BY streams DESC, encode(artist_name) LIMIT ?", [start, end, n]).fetchall()
        assert marts.execute("SELECT * FROM top_artists(?, ?, n := ?)", [start, end, n]).fetchall() == direct_artists
        direct_tracks = marts.execute(
            "SELECT track_key, track_name, artist_name, count_if(is_stream) AS streams, sum(ms_played) / 60000 AS minutes "
            "FROM fct_plays WHERE local_date BETWEEN ? AND ? GROUP BY track_key, track_name, artist_name "
            "HAVING streams > 0 "
            "ORDER BY streams DESC, encode(track_name), encode(artist_name) "
            "LIMIT ?", [start, end, n]).fetchall()
        assert marts.execute("SELECT * FROM top_tracks(?, ?, n := ?)", [start, end, n]).fetchall() == direct_tracks
        artist = rng.choice(artist_keys + [None])
        heat = marts.execute("SELECT local_date, hourly_streams FROM heatmap(?, ?, artist_key := ?)",
                             [start, end, artist]).fetchall()
        direct = defaultdict(lambda: [0] * 24)
        for day, hour in marts.execute(
                "SELECT local_date, local_hour FROM fct_plays WHERE is_stream AND local_date BETWEEN ? AND ? "
                "AND (? IS NULL OR artist_key = ?)", [start, end, artist, artist]).fetchall():
            direct[day][hour] += 1
        assert len(heat) == (end - start).days + 1
        assert {d: list(h) for d, h in heat if any(h)} == dict(direct)


def test_a_reader_holding_the_published_file_survives_a_full_build(built):
    _, marts, settings, resources, instance = built
    before = marts.execute("SELECT count(*) FROM fct_plays").fetchall()
    reader = connect_published(settings.published_marts_path)
    assert materialize([warehouse_models, published_marts_database], resources=resources, instance=instance).success
    assert reader.execute("SELECT count(*) FROM fct_plays").fetchall() == before  # still reading its copy
    reader.close()
    fresh = connect_published(settings.published_marts_path)
    assert fresh.execute("SELECT count(*) FROM fct_plays").fetchall() == before
    fresh.close()
