"""Last.fm enrichment: listeners, playcounts and weighted tags for every track and artist, asked once.

The fetchers choose what to ask from the published marts (most-streamed first, never a key that has
landed before, found or not), at most LASTFM_LOOKUPS_PER_RUN per run, and land each answer at once in
landing/lastfm/{tracks,artists}/ as Last.fm's XML wrapped with the request's identity: a rerun makes no
call, and an interrupted run resumes. The loaders put what landed into raw.lastfm_tracks and
raw.lastfm_artists (the warehouse pool); dbt turns tags into genres.
"""

import hashlib
import json
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, asset

from spotify_assets.defs.lastfm.resources import LastfmResource
from spotify_assets.lib.lastfm.client import LastfmNotFound, LastfmStop
from spotify_assets.lib.listeners import every_listeners_marts
from spotify_assets.lib.raw_tables import (
    LASTFM_ARTISTS,
    LASTFM_TRACKS,
    SqlTable,
    create_raw_tables,
)
from spotify_assets.lib.warehouse import WAREHOUSE_POOL, warehouse_connection
from spotify_assets.settings import SpotifySettings

TRACKS_KEY = AssetKey(["lastfm", "track_info"])
ARTISTS_KEY = AssetKey(["lastfm", "artist_tags"])
RAW_TRACKS_KEY = AssetKey(["raw", "lastfm_tracks"])
RAW_ARTISTS_KEY = AssetKey(["raw", "lastfm_artists"])
PROGRESS_EVERY = 25


def landing_name(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32] + ".json"


def _landed(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


def _candidates(settings: SpotifySettings, query: str, entity: str) -> list[tuple]:
    """Rows (key, names...) of `query` over every listener's published marts not yet looked up, in the query's
    order."""
    marts = every_listeners_marts(settings.data_path)
    if marts is None:
        return []
    with marts:
        rows = marts.execute(query).fetchall()
    landed = _landed(settings.shared_landing_path / "lastfm" / entity)
    return [row for row in rows if landing_name(row[0]) not in landed]


def track_candidates(settings: SpotifySettings) -> list[tuple[str, str, str]]:
    """(track_key, artist_name, track_name) not yet looked up, most streamed first."""
    return _candidates(settings, "SELECT track_key, any_value(artist_name), any_value(track_name) FROM marts.dim_track "
                                 "GROUP BY track_key ORDER BY sum(streams) DESC, track_key", "tracks")


def artist_candidates(settings: SpotifySettings) -> list[tuple[str, str]]:
    """(artist_key, artist_name) not yet looked up, most streamed first."""
    return _candidates(settings, "SELECT artist_key, any_value(artist_name) FROM marts.dim_artist "
                                 "GROUP BY artist_key ORDER BY sum(streams) DESC, artist_key", "artists")



def _write(directory: Path, key: str, envelope: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / landing_name(key)).write_text(json.dumps(envelope, ensure_ascii=False))


def _ask_each(context: AssetExecutionContext, what: str, candidates: list[tuple], directory: Path,
              ask, client, lookups: int) -> MaterializeResult:
    """Ask Last.fm about each candidate (key first), landing every answer at once; a bad key stops."""
    chosen = candidates[:lookups]
    found = 0
    for number, candidate in enumerate(chosen, start=1):
        # Names as Last.fm keeps them: composed (NFC) and trimmed. An account-data export can spell a name decomposed,
        # and where that is the only spelling seen, it is the display name; Last.fm would not find it so.
        names = [unicodedata.normalize("NFC", name).strip() for name in candidate[1:]]
        envelope = {"key": candidate[0], "names": names,
                    "asked_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        try:
            envelope |= {"found": True, **ask(*names)}
            found += 1
        except LastfmNotFound:
            envelope |= {"found": False}
        except LastfmStop as error:
            raise Failure(str(error), metadata={"looked_up_before_stopping": number - 1}) from None
        _write(directory, candidate[0], envelope)
        if number % PROGRESS_EVERY == 0:
            context.log.info(f"Last.fm {what}: {number} of {len(chosen)} ({len(candidates) - number} left)")
    return MaterializeResult(metadata={"looked_up": len(chosen), "found": found, "requests": client.requests_made,
                                       "still_to_look_up": len(candidates) - len(chosen)})


# Like the catalog lookup, the fetchers read the published marts to choose what to ask, and what they
# find flows back into them: a feedback loop, not a declared dependency.
@asset(key=TRACKS_KEY, group_name="enrichment", kinds={"lastfm", "python"},
       description="track.getInfo and track.getTopTags for every track, most-streamed first, each asked once.")
def lastfm_track_info(context: AssetExecutionContext, spotify_settings: SpotifySettings,
                      lastfm: LastfmResource) -> MaterializeResult:
    client = lastfm.client(spotify_settings)

    def ask(artist: str, title: str) -> dict:
        info = client.track_info(artist, title)
        return {"listeners": info.listeners, "playcount": info.playcount,
                "duration_ms": info.duration_ms, "tags": info.tags, "answers": info.answers}

    return _ask_each(context, "tracks", track_candidates(spotify_settings),
                     spotify_settings.shared_landing_path / "lastfm" / "tracks", ask, client, spotify_settings.lastfm_lookups)


@asset(key=ARTISTS_KEY, group_name="enrichment", kinds={"lastfm", "python"},
       description="artist.getTopTags for every artist, most-streamed first, each asked once.")
def lastfm_artist_tags(context: AssetExecutionContext, spotify_settings: SpotifySettings,
                       lastfm: LastfmResource) -> MaterializeResult:
    client = lastfm.client(spotify_settings)

    def ask(artist: str) -> dict:
        tags, answer = client.artist_tags(artist)
        return {"tags": tags, "answers": {"artist.getTopTags": answer}}

    return _ask_each(context, "artists", artist_candidates(spotify_settings),
                     spotify_settings.shared_landing_path / "lastfm" / "artists", ask, client, spotify_settings.lastfm_lookups)


def _tags_json(tags) -> str:
    return json.dumps([{"name": name, "weight": weight, "rank": rank} for rank, (name, weight) in enumerate(tags or [], 1)],
                      ensure_ascii=False)


def _load(settings: SpotifySettings, entity: str, table: SqlTable, to_row) -> MaterializeResult:
    directory = settings.shared_landing_path / "lastfm" / entity
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    with warehouse_connection(settings) as connection:
        create_raw_tables(connection)
        known = {name for (name,) in connection.execute(f"SELECT _landed_file FROM {table.qualified_name}").fetchall()}
        new = [to_row(json.loads(p.read_text()), p.name, loaded_at) for p in sorted(directory.glob("*.json"))
               if p.name not in known] if directory.exists() else []
        table.insert(connection, new, replace=True)
        total, found = connection.execute(f"SELECT count(*), count_if(found) FROM {table.qualified_name}").fetchall()[0]
    return MaterializeResult(metadata={"loaded": len(new), "dagster/row_count": total, "found": found})


@asset(key=RAW_TRACKS_KEY, deps=[TRACKS_KEY], group_name="enrichment", kinds={"duckdb", "python"},
       pool=WAREHOUSE_POOL, description="One row per track looked up on Last.fm, from landing/lastfm/tracks/.")
def raw_lastfm_tracks(spotify_settings: SpotifySettings) -> MaterializeResult:
    return _load(spotify_settings, "tracks", LASTFM_TRACKS, lambda e, name, at: LASTFM_TRACKS.row(
        track_key=e["key"], artist_name=e["names"][0], track_name=e["names"][1], found=e["found"],
        listeners=e.get("listeners"), playcount=e.get("playcount"), duration_ms=e.get("duration_ms"),
        tags_json=_tags_json(e.get("tags")), _landed_file=name, _loaded_at=at))


@asset(key=RAW_ARTISTS_KEY, deps=[ARTISTS_KEY], group_name="enrichment", kinds={"duckdb", "python"},
       pool=WAREHOUSE_POOL, description="One row per artist looked up on Last.fm, from landing/lastfm/artists/.")
def raw_lastfm_artists(spotify_settings: SpotifySettings) -> MaterializeResult:
    return _load(spotify_settings, "artists", LASTFM_ARTISTS, lambda e, name, at: LASTFM_ARTISTS.row(
        artist_key=e["key"], artist_name=e["names"][0], found=e["found"], tags_json=_tags_json(e.get("tags")),
        _landed_file=name, _loaded_at=at))
