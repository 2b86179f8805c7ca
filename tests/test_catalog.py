"""Catalog enrichment against the fake Spotify: bounded, resumable, most-streamed first, into the marts."""

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from spotify_assets.definitions import defs
from spotify_assets.defs.catalog.assets import catalog_tracks, raw_catalog_tracks
from spotify_assets.defs.exports.assets import import_spotify_export
from spotify_assets.defs.partitions import spotify_export_partitions
from spotify_assets.defs.publishing.assets import published_marts_database
from spotify_assets.defs.spotify_api.resources import SpotifyApiResource
from spotify_assets.defs.transformations.assets import warehouse_models
from spotify_assets.lib.exports.landing import receive_export
from spotify_assets.lib.simulated.spotify import SimulatedSpotify, track_object
from spotify_assets.lib.warehouse import warehouse_connection

pytestmark = pytest.mark.slow


def test_lookups_are_bounded_resumable_most_streamed_first_and_reach_the_marts(small_history, settings, monkeypatch):
    monkeypatch.setenv("SPOTIFY_CATALOG_LOOKUPS_PER_RUN", "15")
    monkeypatch.setenv("SPOTIFY_CATALOG_REQUESTS_PER_SECOND", "1000")
    tracks = {}
    for play in small_history.plays:
        if play.kind == "music":
            tracks[play.uri.rsplit(":", 1)[-1]] = play.item
    missing = sorted(tracks)[:5]  # Spotify no longer knows these
    with SimulatedSpotify() as fake:
        for track_id, item in tracks.items():
            if track_id not in missing:
                fake.tracks[track_id] = track_object(track_id, item.name, [item.artist, "Guest Singer"], item.album,
                                                     item.duration_ms, item.isrc)
        instance = DagsterInstance.ephemeral()
        resources = {"spotify_settings": settings, "dbt": defs.resources["dbt"],
                     "spotify_api": SpotifyApiResource(client_id="fake-client-id", client_secret="fake-client-secret",
                                                       refresh_token="fake-refresh-token", api_base_url=fake.base_url,
                                                       accounts_base_url=fake.base_url, backoff_seconds=0.01)}
        for export in small_history.exports:
            landed = receive_export(export.path, settings.exports_landing_path)
            instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
            assert materialize([import_spotify_export], partition_key=landed.export_hash, resources=resources,
                               instance=instance).success
        assert materialize([warehouse_models, published_marts_database], resources=resources, instance=instance).success

        with duckdb.connect(str(settings.published_marts_path), read_only=True) as marts:
            by_streams = [row[0] for row in marts.execute(
                "SELECT split_part(track_uri, ':', 3), count_if(is_stream) AS s FROM marts.fct_plays "
                "WHERE track_uri IS NOT NULL GROUP BY 1 ORDER BY s DESC, 1").fetchall()]
        first = materialize([catalog_tracks], resources=resources, instance=instance)
        asked_first = [path.rsplit("/", 1)[-1] for route, path, _ in fake.requests if route == "tracks"]
        assert asked_first == by_streams[:15]  # most streamed first, bounded
        assert first.get_asset_materialization_events()[0].materialization.metadata["still_to_look_up"].value == \
            len(by_streams) - 15
        monkeypatch.setenv("SPOTIFY_CATALOG_LOOKUPS_PER_RUN", "1000")
        materialize([catalog_tracks], resources=resources, instance=instance)
        asked = [path.rsplit("/", 1)[-1] for route, path, _ in fake.requests if route == "tracks"]
        assert sorted(asked) == sorted(by_streams)  # everything once, nothing twice
        again = materialize([catalog_tracks], resources=resources, instance=instance)
        assert again.get_asset_materialization_events()[0].materialization.metadata["looked_up"].value == 0
        assert fake.calls("tracks") == len(by_streams)  # not-found answers are cached too

        assert materialize([raw_catalog_tracks, warehouse_models, published_marts_database], resources=resources,
                           instance=instance).success
    with warehouse_connection(settings, read_only=True, with_marts=True) as warehouse:
        found = warehouse.execute("SELECT count_if(found), count_if(NOT found) FROM raw.catalog_tracks").fetchall()[0]
        assert found[1] == len([m for m in missing if m in by_streams]) and found[0] == len(by_streams) - found[1]
        assert warehouse.execute("SELECT count(*) FROM marts.fct_plays WHERE track_uri IS NOT NULL AND recording_key IS NULL "
                                 f"AND split_part(track_uri, ':', 3) NOT IN ({', '.join(repr(m) for m in missing)})").fetchall() == [(0,)]
        isrc_pairs = warehouse.execute(
            "SELECT DISTINCT split_part(track_uri, ':', 3), recording_key FROM marts.fct_plays WHERE recording_key IS NOT NULL").fetchall()
        assert all(tracks[track_id].isrc == isrc for track_id, isrc in isrc_pairs)
        assert warehouse.execute("SELECT count(*) FROM marts.dim_track WHERE recording_key IS NOT NULL").fetchall()[0][0] > 0
        # Plays built before the lookups get their completion once the catalog knows their track's length.
        with_completion, wrong = warehouse.execute(
            "SELECT count(p.completion), count(*) FILTER (WHERE p.completion IS DISTINCT FROM CASE WHEN t.duration_ms > 0 "
            "THEN least(p.ms_played / t.duration_ms, 1.0) END) FROM marts.fct_plays AS p JOIN marts.dim_track AS t "
            "USING (track_key)").fetchall()[0]
        assert with_completion > 0 and wrong == 0
        lengths = warehouse.execute("SELECT track_uris, duration_ms, release_year FROM marts.dim_track "
                                    "WHERE duration_ms IS NOT NULL").fetchall()
        assert lengths and all(any(tracks[uri.rsplit(":", 1)[-1]].duration_ms == length for uri in uris
                                   if uri.rsplit(":", 1)[-1] in tracks) and year == 2020 for uris, length, year in lengths)
        guests = warehouse.execute("SELECT count(DISTINCT track_key) FROM marts.bridge_track_artist "
                                   "WHERE artist_name = 'Guest Singer' AND artist_position = 1").fetchall()[0][0]
        assert guests > 0
