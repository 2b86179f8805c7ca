"""Last.fm enrichment end to end against the fake Last.fm, with genre marts checked against a Python oracle."""

import re
import unicodedata
from collections import defaultdict
from datetime import date

import pytest
from dagster import DagsterInstance, materialize

from spotify_assets.definitions import defs
from spotify_assets.defs.exports.assets import import_spotify_export
from spotify_assets.defs.lastfm.assets import (
    lastfm_artist_tags,
    lastfm_track_info,
    raw_lastfm_artists,
    raw_lastfm_tracks,
)
from spotify_assets.defs.lastfm.resources import LastfmResource
from spotify_assets.defs.partitions import spotify_export_partitions
from spotify_assets.defs.publishing.assets import published_marts_database
from spotify_assets.defs.transformations.assets import warehouse_models
from spotify_assets.lib.exports.landing import receive_export
from spotify_assets.lib.publishing.publish import connect_published
from spotify_assets.lib.simulated.lastfm import LastfmFault, simulated_lastfm_for
from spotify_assets.lib.synthetic.tags import artist_tags, track_tags
from spotify_assets.lib.warehouse import warehouse_connection

pytestmark = pytest.mark.slow
NOISE = {"seen live", "favorites", "favourites", "favorite", "favourite", "my favorite", "my favourite", "albums i own",
         "owned", "spotify", "love", "awesome", "beautiful", "amazing", "best", "cool", "check out", "all", "fixme"}
NATIONALITIES = {"german", "british", "american", "swedish", "icelandic", "japanese"}


def normalize(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().casefold()


def canonical(tag: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[-_/]+", " ", unicodedata.normalize("NFC", tag).lower())).strip()


def genre_weights(tags, artist_key) -> dict[str, float]:
    """The oracle's cleaning: genres of one item, spellings merged, weights summing to 1."""
    merged = defaultdict(float)
    for name, weight in tags or []:
        key = canonical(name)
        if key in NOISE or normalize(name) == artist_key or re.fullmatch(r"(\d{2}|\d{4})s", key) or key in NATIONALITIES:
            continue
        merged[key] += weight
    total = sum(merged.values())
    return {k: (w / total if total else 1 / len(merged)) for k, w in merged.items()}


@pytest.fixture(scope="module")
def enriched(tmp_path_factory):
    import os

    from spotify_assets.settings import SpotifySettings

    os.environ["LASTFM_LOOKUPS_PER_RUN"] = "100000"  # every track and artist in one run
    from spotify_assets.lib.synthetic.exports import SyntheticHistory

    base = tmp_path_factory.mktemp("lastfm")
    history = SyntheticHistory.generate(plays=3_000, seed=21)
    history.write_exports(base / "exports")
    settings = SpotifySettings(data_dir=str(base / "data"), timezone="UTC")
    music = [p for p in history.plays if p.kind == "music" and history.sources_of(p)]
    with simulated_lastfm_for(history) as fake:
        instance = DagsterInstance.ephemeral()
        resources = {"spotify_settings": settings, "dbt": defs.resources["dbt"],
                     "lastfm": LastfmResource(api_key=fake.api_key, base_url=fake.base_url, requests_per_second=1000,
                                              backoff_seconds=0.01)}
        for export in history.exports:
            landed = receive_export(export.path, settings.exports_landing_path)
            instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
            assert materialize([import_spotify_export], partition_key=landed.export_hash, resources=resources,
                               instance=instance).success
        assert materialize([warehouse_models, published_marts_database], resources=resources, instance=instance).success
        first = materialize([lastfm_track_info, lastfm_artist_tags], resources=resources, instance=instance)
        assert first.success
        calls_after_first = fake.calls()
        second = materialize([lastfm_track_info, lastfm_artist_tags], resources=resources, instance=instance)
        calls_after_second = fake.calls()
        assert materialize([raw_lastfm_tracks, raw_lastfm_artists, warehouse_models, published_marts_database],
                           resources=resources, instance=instance).success
        yield {"history": history, "music": music, "settings": settings, "fake": fake, "first": first, "second": second,
               "calls": (calls_after_first, calls_after_second), "resources": resources, "instance": instance}
    os.environ.pop("LASTFM_LOOKUPS_PER_RUN", None)


def test_every_track_and_artist_is_asked_once_and_a_rerun_makes_no_call(enriched):
    tracks = {(normalize(p.item.artist), normalize(p.item.name)) for p in enriched["music"]}
    artists = {normalize(p.item.artist) for p in enriched["music"]}
    first, second = enriched["calls"]
    from collections import Counter

    asked = Counter((r["artist"], r["track"]) for r in enriched["fake"].requests if r.get("method") == "track.getInfo")
    assert [pair for pair, times in asked.items() if times > 1] == []
    assert enriched["fake"].calls("track.getInfo") == len(tracks)
    assert enriched["fake"].calls("artist.getTopTags") == len(artists)
    assert second == first  # nothing asked twice, found or not
    metadata = {e.asset_key.path[-1]: e.materialization.metadata for e in enriched["second"].get_asset_materialization_events()}
    assert metadata["track_info"]["looked_up"].value == 0 and metadata["artist_tags"]["looked_up"].value == 0


def test_tags_are_cleaned_into_genres_and_facets(enriched):
    with warehouse_connection(enriched["settings"], read_only=True, with_marts=True) as warehouse:
        tags = dict(warehouse.execute("SELECT tag_key, tag_type FROM marts.dim_tag").fetchall())
        assert tags["hip hop"] == "genre" and "hip-hop" not in tags  # spellings merged
        assert tags["post rock"] == "genre"
        assert tags["90s"] == "decade" and tags["german"] == "nationality" and tags["seen live"] == "noise"
        assert warehouse.execute("SELECT count(*) FROM marts.bridge_artist_tag WHERE tag_type = 'noise'").fetchall() == [(0,)]
        own_name = warehouse.execute("SELECT count(*) FROM marts.bridge_artist_tag WHERE tag_key = artist_key").fetchall()
        assert own_name == [(0,)]
        sums = warehouse.execute("SELECT max(abs(total - 1)) FROM (SELECT sum(weight) AS total FROM marts.bridge_track_tag "
                                 "GROUP BY track_key, tag_type)").fetchall()[0][0]
        assert sums < 1e-9
        inherited = warehouse.execute("SELECT count(DISTINCT track_key) FILTER (WHERE is_inherited), "
                                      "count(DISTINCT track_key) FILTER (WHERE NOT is_inherited) FROM marts.bridge_track_tag "
                                      "WHERE tag_type = 'genre'").fetchall()[0]
        assert inherited[0] > 0 and inherited[1] > 0


def test_genre_marts_match_the_oracle(enriched):
    streams = [p for p in enriched["music"] if p.is_stream]
    minutes = defaultdict(float)  # every play, skips included (section 9)
    for play in enriched["music"]:
        artist_key = normalize(play.item.artist)
        weights = genre_weights(track_tags(play.item.artist, play.item.name), artist_key) or genre_weights(
            artist_tags(play.item.artist), artist_key)
        for genre, weight in weights.items():
            minutes[genre] += weight * play.ms_played / 60000
    totals = defaultdict(float)
    in_2025 = defaultdict(float)
    with_genre = 0
    for play in streams:
        artist_key = normalize(play.item.artist)
        own = genre_weights(track_tags(play.item.artist, play.item.name), artist_key)
        weights = own or genre_weights(artist_tags(play.item.artist), artist_key)
        with_genre += bool(weights)
        for genre, weight in weights.items():
            totals[genre] += weight
            if date(2025, 1, 1) <= play.ended_at.date() <= date(2025, 6, 30):
                in_2025[genre] += weight
    marts = connect_published(enriched["settings"].published_marts_path)
    try:
        def top(start, end, n=25):
            return {k: s for k, _, s, _ in marts.execute("SELECT * FROM top_genres(?, ?, n := ?)", [start, end, n]).fetchall()}
        all_time = top("1900-01-01", "2100-01-01")
        assert all_time.keys() == totals.keys()
        assert all(abs(all_time[g] - totals[g]) < 1e-6 for g in totals)
        first_half = top("2025-01-01", "2025-06-30")
        assert all(abs(first_half[g] - in_2025[g]) < 1e-6 for g in in_2025 if in_2025[g] > 0)
        ranked = [k for k, *_ in marts.execute("SELECT * FROM top_genres('1900-01-01', '2100-01-01', n := 3)").fetchall()]
        assert ranked == [g for g, _ in sorted(totals.items(), key=lambda item: -item[1])][:3]
        by_minutes = marts.execute("SELECT tag_key, minutes FROM top_genres('1900-01-01', '2100-01-01', n := 1000, "
                                   "order_by := 'minutes')").fetchall()
        assert [k for k, _ in by_minutes] == [g for g, _ in sorted(minutes.items(), key=lambda item: -item[1])]
        assert all(abs(got - minutes[k]) < 1e-6 for k, got in by_minutes)
        coverage = marts.execute("SELECT sum(streams), sum(streams_with_genre) FROM mart_genre_coverage").fetchall()[0]
        assert coverage == (len(streams), with_genre)
        shares = marts.execute("SELECT year, month, sum(share_of_streams) FROM mart_genre_share_monthly GROUP BY ALL").fetchall()
        covered = {(y, m): s for y, m, _, _, s in marts.execute("SELECT * FROM mart_genre_coverage").fetchall()}
        assert all(abs(share - covered[(y, m)]) < 1e-9 for y, m, share in shares)
        cells = marts.execute("SELECT count(*), sum(streams) FROM mart_genre_weekday_hour").fetchall()[0]
        assert cells[0] == 168 * len(totals) and abs(cells[1] - sum(totals.values())) < 1e-6
    finally:
        marts.close()


def test_a_bad_key_stops_the_run_and_keeps_what_landed(enriched, tmp_path):
    fake, resources = enriched["fake"], dict(enriched["resources"])
    settings = enriched["settings"]
    landed_before = len(list((settings.landing_path / "lastfm" / "tracks").iterdir()))
    # New work (a fresh landing dir would ask again): point at a copy of the data with no Last.fm answers.
    import shutil

    from spotify_assets.settings import SpotifySettings

    copy = tmp_path / "data"
    shutil.copytree(settings.data_path, copy, ignore=shutil.ignore_patterns("lastfm"))
    resources["spotify_settings"] = SpotifySettings(data_dir=str(copy), timezone="UTC")
    fake.inject("track.getTopTags", LastfmFault(code=29, http_status=429), LastfmFault(code=26))
    result = materialize([lastfm_track_info], resources=resources, instance=DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "API key is suspended" in str(failure.event_specific_data.error) and fake.api_key not in str(failure.event_specific_data.error)
    written = copy / "landing" / "lastfm" / "tracks"
    assert not written.exists() or not any(written.iterdir())  # the first track failed: nothing half-written
    assert len(list((settings.landing_path / "lastfm" / "tracks").iterdir())) == landed_before


def test_every_tagged_artist_gets_genres_most_streamed_asked_first(enriched):
    with warehouse_connection(enriched["settings"], read_only=True, with_marts=True) as warehouse:
        with_genres = {k for (k,) in warehouse.execute(
            "SELECT DISTINCT artist_key FROM marts.bridge_artist_tag WHERE tag_type = 'genre'").fetchall()}
        by_streams = [k for (k,) in warehouse.execute(
            "SELECT artist_name FROM marts.dim_artist ORDER BY streams DESC, artist_key LIMIT 10").fetchall()]
    tagged = {normalize(p.item.artist) for p in enriched["music"] if artist_tags(p.item.artist)}
    assert with_genres == tagged
    asked = [r["artist"] for r in enriched["fake"].requests if r.get("method") == "artist.getTopTags"]
    assert asked[:10] == by_streams


def test_the_sensor_asks_only_while_something_is_new(enriched, monkeypatch):
    from dagster import build_sensor_context

    from spotify_assets.defs.lastfm.sensor import lastfm_enrichment_sensor

    resources = {"spotify_settings": enriched["settings"]}
    context = build_sensor_context(instance=enriched["instance"], definitions=defs, resources=resources)
    monkeypatch.delenv("LASTFM_API_KEY", raising=False)
    assert "LASTFM_API_KEY" in lastfm_enrichment_sensor(context).skip_message
    monkeypatch.setenv("LASTFM_API_KEY", "set")
    fresh = build_sensor_context(instance=enriched["instance"], definitions=defs, resources=resources)
    assert "has been asked about" in lastfm_enrichment_sensor(fresh).skip_message


def test_enrich_asks_what_the_sensor_asks_and_launches_nothing_when_everything_was_asked(enriched, tmp_path):
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from conftest import cli_environment

    data_dir = tmp_path / "data"
    shutil.copytree(enriched["settings"].data_path, data_dir)
    calls_before = enriched["fake"].calls()
    environment = cli_environment(data_dir) | {"SPOTIFY_TIMEZONE": "UTC", "LASTFM_API_KEY": enriched["fake"].api_key,
                                               "LASTFM_API_BASE_URL": enriched["fake"].base_url}
    completed = subprocess.run([str(Path(sys.executable).with_name("spotify-assets")), "enrich"], env=environment,
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    assert "Last.fm: Every track and artist has been asked about." in completed.stdout
    assert "Spotify catalog: Catalog lookups need a listener's Spotify authorization" in completed.stdout
    assert enriched["fake"].calls() == calls_before
    instance = DagsterInstance.from_config(str(data_dir / "dagster_home"))
    assert instance.get_runs() == []  # no enrichment run, and nothing new for the warehouse update rule


def test_enrich_on_a_new_data_directory_says_nothing_is_published_yet(tmp_path, monkeypatch):
    from spotify_assets.defs.lastfm.sensor import lastfm_request
    from spotify_assets.settings import SpotifySettings

    monkeypatch.setenv("LASTFM_API_KEY", "set")
    from dagster import DagsterInstance

    with DagsterInstance.ephemeral() as instance:
        assert "Nothing published yet" in lastfm_request(SpotifySettings(data_dir=str(tmp_path / "data")),
                                                         instance).skip_message
