"""The marts against an independent oracle: plain Python over the generator's ground truth.

A synthetic history in a zone with DST is imported and built through real Dagster materializations
(import partitions, dbt build, publish); every figure is then recomputed from the true plays here,
without SQL, and compared with the published marts.
"""

import random
import unicodedata
from collections import Counter, defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from dagster import DagsterInstance, materialize

from spotify_assets.definitions import defs
from spotify_assets.exports.assets import import_spotify_export
from spotify_assets.exports.landing import receive_export
from spotify_assets.partitions import spotify_export_partitions
from spotify_assets.publishing.assets import published_marts_database
from spotify_assets.publishing.publish import connect_published
from spotify_assets.settings import SpotifySettings
from spotify_assets.synthetic.exports import SyntheticHistory
from spotify_assets.transformations.assets import warehouse_models

ZONE = "America/New_York"
pytestmark = pytest.mark.slow


def normalize(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().casefold()


class Truth:
    """Every figure the marts promise, computed from the true plays."""

    def __init__(self, history: SyntheticHistory):
        zone = ZoneInfo(ZONE)
        utc = ZoneInfo("UTC")
        self.plays = []
        for play in history.plays:
            if play.kind != "music" or not history.sources_of(play):
                continue
            local = play.ended_at.replace(tzinfo=utc).astimezone(zone)
            self.plays.append({
                "date": local.date(), "hour": local.hour, "weekday": local.isoweekday(),
                "artist_key": normalize(play.item.artist),
                "track_key": normalize(play.item.artist) + "\x1f" + normalize(play.item.name),
                "artist": play.item.artist, "track": play.item.name, "stream": play.ms_played >= 30_000,
            })
        self.streams = [p for p in self.plays if p["stream"]]

    def top(self, key: str, start: date, end: date, n: int = 10) -> list[tuple[str, int]]:
        counts = Counter(p[key] for p in self.streams if start <= p["date"] <= end)
        names = {p[key]: (p["track"], p["artist"]) if key == "track_key" else (p["artist"],) for p in self.plays}
        ranked = sorted(counts.items(), key=lambda item: (-item[1], names[item[0]]))
        return ranked[:n]


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
    yield Truth(history), connection, settings, resources, instance
    connection.close()


def test_totals(built):
    truth, marts, *_ = built
    assert marts.execute("SELECT count(*), count_if(is_stream) FROM fct_plays").fetchall() == [
        (len(truth.plays), len(truth.streams))]


def test_every_weekday_hour_cell(built):
    truth, marts, *_ = built
    expected = Counter((p["weekday"], p["hour"]) for p in truth.streams)
    rows = marts.execute("SELECT iso_weekday, local_hour, streams FROM mart_heatmap_weekday_hour").fetchall()
    assert len(rows) == 168
    assert {(w, h): s for w, h, s in rows} == {(w, h): expected.get((w, h), 0) for w in range(1, 8) for h in range(24)}


def test_every_calendar_day(built):
    truth, marts, *_ = built
    per_day = Counter(p["date"] for p in truth.streams)
    first, last = min(p["date"] for p in truth.plays), max(p["date"] for p in truth.plays)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    rows = marts.execute("SELECT local_date, iso_year, iso_week, iso_weekday, streams FROM mart_heatmap_calendar "
                         "ORDER BY local_date").fetchall()
    assert rows == [(d, *d.isocalendar(), per_day.get(d, 0)) for d in days]


def test_year_month_and_daily_aggregates(built):
    truth, marts, *_ = built
    per_month = Counter((p["date"].year, p["date"].month) for p in truth.streams)
    rows = marts.execute("SELECT year, month, streams FROM mart_heatmap_year_month").fetchall()
    assert {(y, m): s for y, m, s in rows if s} == dict(per_month)
    hourly = defaultdict(lambda: [0] * 24)
    for p in truth.streams:
        hourly[p["date"]][p["hour"]] += 1
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
    truth, marts, *_ = built
    artists = marts.execute("SELECT artist_key, streams FROM top_artists(?, ?)", [start, end]).fetchall()
    tracks = marts.execute("SELECT track_key, streams FROM top_tracks(?, ?)", [start, end]).fetchall()
    assert artists == truth.top("artist_key", start, end)
    assert tracks == truth.top("track_key", start, end)


def test_hour_drilldowns(built):
    truth, marts, *_ = built
    by_hour = defaultdict(Counter)
    for p in truth.streams:
        by_hour[(p["date"], p["hour"])][(p["track"], p["artist"])] += 1
    busiest = sorted(by_hour, key=lambda h: -sum(by_hour[h].values()))[:3]
    chosen = busiest + random.Random(5).sample(sorted(by_hour), 5)
    for local_date, hour in chosen:
        rows = marts.execute("SELECT track_name, artist_name, streams FROM hour_drilldown(?, ?)", [local_date, hour]).fetchall()
        got = Counter({(unicodedata.normalize("NFC", t), unicodedata.normalize("NFC", a)): s for t, a, s in rows})
        assert got == by_hour[(local_date, hour)], (local_date, hour)
    assert marts.execute("SELECT count(*) FROM hour_drilldown('1999-01-01', 3)").fetchall() == [(0,)]


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
            "SELECT artist_key, artist_name, count(*) AS streams FROM fct_plays WHERE is_stream AND local_date BETWEEN ? AND ? "
            "GROUP BY artist_key, artist_name ORDER BY streams DESC, encode(artist_name) LIMIT ?", [start, end, n]).fetchall()
        assert marts.execute("SELECT * FROM top_artists(?, ?, n := ?)", [start, end, n]).fetchall() == direct_artists
        direct_tracks = marts.execute(
            "SELECT track_key, track_name, artist_name, count(*) AS streams FROM fct_plays WHERE is_stream "
            "AND local_date BETWEEN ? AND ? GROUP BY track_key, track_name, artist_name "
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
