"""Catalog enrichment: Spotify's own data for tracks seen only in exports.

Exports carry a track URI but no ISRC, duration, album id or credited artists. For the URIs never seen
through the Web API, most-streamed first and at most `SPOTIFY_CATALOG_LOOKUPS_PER_RUN` per run, this asks
GET /v1/tracks/{id} one at a time (development-mode apps lost the batch endpoint in 2026), paced and
with the client's retries. Every answer lands at once in landing/catalog/tracks/ (`<id>.json`, or
`<id>.not_found.json`), so an interrupted run resumes where it stopped and no id is asked twice.
"""

import json
import time
from datetime import datetime, timezone
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from spotify_assets.defs.spotify_api.resources import SpotifyApiResource
from spotify_assets.lib.listeners import every_listeners_marts
from spotify_assets.lib.raw_tables import CATALOG_TRACKS, create_raw_tables
from spotify_assets.lib.spotify_api.client import SpotifyError, SpotifyNotFound
from spotify_assets.lib.warehouse import WAREHOUSE_POOL, warehouse_connection
from spotify_assets.settings import SpotifySettings

CATALOG_KEY = AssetKey(["spotify_api", "catalog_tracks"])
RAW_CATALOG_KEY = AssetKey(["raw", "catalog_tracks"])


def _cached_ids(directory: Path) -> set[str]:
    if not directory.exists():
        return set()
    return {p.name.split(".", 1)[0] for p in directory.iterdir() if p.suffix == ".json"}


def _candidates(data_path: Path, cached: set[str]) -> list[tuple[str, int]]:
    """(track id, streams) for URIs no API play has described, most streamed first, over every listener's published
    marts (which no writer ever locks, so the slow lookups never hold the warehouse)."""
    connection = every_listeners_marts(data_path)
    if connection is None:
        return []
    with connection:
        rows = connection.execute("""
            SELECT split_part(track_uri, ':', 3) AS track_id, count_if(is_stream) AS streams
            FROM marts.fct_plays
            WHERE track_uri LIKE 'spotify:track:%'
            GROUP BY 1
            HAVING count(api_record_id) = 0
            ORDER BY streams DESC, track_id
        """).fetchall()
    return [(track_id, streams) for track_id, streams in rows if track_id not in cached]


def lookups_pending(settings: SpotifySettings) -> int:
    """Track ids the catalog has not been asked about yet."""
    return len(_candidates(settings.data_path, _cached_ids(settings.shared_landing_path / "catalog" / "tracks")))


def _row(track_id: str, path: Path, loaded_at: datetime) -> tuple:
    body = json.loads(path.read_bytes())
    if path.name.endswith(".not_found.json"):
        return CATALOG_TRACKS.row(track_id=track_id, track_uri=f"spotify:track:{track_id}", found=False, track_name=None,
                                  duration_ms=None, isrc=None, album_id=None, album_name=None, album_release_date=None,
                                  artists_json=None, _landed_file=path.name, _loaded_at=loaded_at)
    album = body.get("album") or {}
    artists = [{"id": a.get("id"), "name": a.get("name"), "uri": a.get("uri")} for a in body.get("artists") or []]
    return CATALOG_TRACKS.row(
        track_id=track_id, track_uri=body.get("uri"), found=True, track_name=body.get("name"),
        duration_ms=body.get("duration_ms"), isrc=(body.get("external_ids") or {}).get("isrc"), album_id=album.get("id"),
        album_name=album.get("name"), album_release_date=album.get("release_date"),
        artists_json=json.dumps(artists, ensure_ascii=False), _landed_file=path.name, _loaded_at=loaded_at)


# It reads the published marts to choose what to look up, and what it finds flows back into them: a
# feedback loop, so that read is not declared as a dependency (the asset graph must stay acyclic).
@asset(
    key=CATALOG_KEY,
    group_name="enrichment",
    kinds={"spotify", "python"},
    description="Track details from GET /v1/tracks/{id} for URIs seen only in exports (ISRC, duration, album, "
    "credited artists), one file per track in landing/catalog/tracks/. Bounded, resumable, most-streamed first.",
)
def catalog_tracks(context: AssetExecutionContext, spotify_settings: SpotifySettings,
                   spotify_api: SpotifyApiResource) -> MaterializeResult:
    directory = spotify_settings.shared_landing_path / "catalog" / "tracks"
    directory.mkdir(parents=True, exist_ok=True)
    limit = spotify_settings.catalog_lookups
    pause = spotify_settings.catalog_pause_seconds
    candidates = _candidates(spotify_settings.data_path, _cached_ids(directory))
    chosen = candidates[:limit]
    found = not_found = 0
    with spotify_api.catalog_client(spotify_settings) as client:
        for number, (track_id, _) in enumerate(chosen, start=1):
            try:
                body = client.get_response(f"/v1/tracks/{track_id}").content
                path = directory / f"{track_id}.json"
                found += 1
            except SpotifyNotFound:
                body = json.dumps({"status": 404, "track_id": track_id}).encode()
                path = directory / f"{track_id}.not_found.json"
                not_found += 1
            except SpotifyError as error:
                if "HTTP 400" not in str(error):
                    raise  # Spotify is unwell: what landed so far is kept, the next run resumes
                body = json.dumps({"status": 400, "track_id": track_id}).encode()  # a malformed id is never valid
                path = directory / f"{track_id}.not_found.json"
                not_found += 1
            path.write_bytes(body)
            if number % 50 == 0:
                context.log.info(f"catalog: {number} of {len(chosen)} looked up ({len(candidates) - number} left)")
            time.sleep(pause)
    return MaterializeResult(metadata={"looked_up": len(chosen), "found": found, "not_found": not_found,
                                       "still_to_look_up": len(candidates) - len(chosen)})


@asset(
    key=RAW_CATALOG_KEY,
    deps=[CATALOG_KEY],
    group_name="enrichment",
    kinds={"duckdb", "python"},
    pool=WAREHOUSE_POOL,
    description="One row per looked-up track (found or not) from landing/catalog/tracks/.",
)
def raw_catalog_tracks(spotify_settings: SpotifySettings) -> MaterializeResult:
    directory = spotify_settings.shared_landing_path / "catalog" / "tracks"
    files = {p.name.split(".", 1)[0]: p for p in sorted(directory.iterdir())} if directory.exists() else {}
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    with warehouse_connection(spotify_settings) as connection:
        create_raw_tables(connection)
        known = {track_id for (track_id,) in connection.execute("SELECT track_id FROM raw.catalog_tracks").fetchall()}
        new = [_row(track_id, path, loaded_at) for track_id, path in files.items() if track_id not in known]
        CATALOG_TRACKS.insert(connection, new)
        total = connection.execute("SELECT count(*), count_if(found) FROM raw.catalog_tracks").fetchall()[0]
    return MaterializeResult(metadata={"loaded": len(new), "dagster/row_count": total[0], "found": total[1]})
