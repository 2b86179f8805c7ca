"""The `raw.*` tables: one per source format and content kind, typed, with provenance.

Columns keep the export's own field names (dbt staging renames them) but are already typed, so a
record that cannot be typed is quarantined here, with its reason, instead of failing a dbt run later.
Personal fields (`username`, `ip_addr*`, `user_agent_decrypted`) have no column: they stay in landing.
"""

from __future__ import annotations

from dataclasses import dataclass

# Each parse of an export is stamped with this version; a new version re-imports landed exports (the inbox sensor
# and `spotify-assets build` do it). 2: JSON members whose names say nothing are recognised by their keys.
PARSER_VERSION = 2

PERSONAL_FIELDS = frozenset({"username", "ip_addr", "ip_addr_decrypted", "user_agent_decrypted"})

PROVENANCE_COLUMNS = (
    ("_export_hash", "VARCHAR NOT NULL"),
    ("_file_path", "VARCHAR NOT NULL"),
    ("_record_index", "INTEGER NOT NULL"),
    ("_loaded_at", "TIMESTAMP NOT NULL"),
)


# What a value may be and still be a plausible play; anything outside is quarantined with its reason.
BIGINT_RANGE = (-(2**63), 2**63 - 1)
MS_PLAYED_RANGE = (0, 24 * 3600 * 1000)  # a stream is not negative, and none lasts beyond a day
FIRST_PLAUSIBLE_YEAR = 2006  # the year Spotify was founded; a play before it is a broken timestamp


@dataclass(frozen=True)
class Column:
    name: str  # the export's field name
    kind: str  # "timestamp", "standard_time", "integer", "text", "boolean"
    required: bool = False
    limits: tuple[int, int] = BIGINT_RANGE  # integers only: the plausible range, inclusive

    @property
    def sql_type(self) -> str:
        return {
            "timestamp": "TIMESTAMP",
            "standard_time": "TIMESTAMP",
            "integer": "BIGINT",
            "text": "VARCHAR",
            "boolean": "BOOLEAN",
        }[self.kind]


@dataclass(frozen=True)
class RawTable:
    """A raw table of export records. Its columns carry the parsing rules (kind, required, plausible limits) that
    exports/parsing.py and exports/bulk_reading.py apply to untyped JSON; the other raw tables (SqlTable below)
    receive values already typed, so a name and an SQL type is all they declare."""

    name: str
    description: str
    columns: tuple[Column, ...]

    @property
    def qualified_name(self) -> str:
        return f"raw.{self.name}"

    def create_statement(self) -> str:
        column_sql = [f'"{column.name}" {column.sql_type}' for column in self.columns]
        column_sql += [f"{name} {sql_type}" for name, sql_type in PROVENANCE_COLUMNS]
        return f"CREATE TABLE IF NOT EXISTS {self.qualified_name} ({', '.join(column_sql)})"


_EXTENDED_COMMON_START = (
    Column("ts", "timestamp", required=True),
    Column("platform", "text"),
    Column("ms_played", "integer", required=True, limits=MS_PLAYED_RANGE),
    Column("conn_country", "text"),
)
_EXTENDED_COMMON_END = (
    Column("reason_start", "text"),
    Column("reason_end", "text"),
    Column("shuffle", "boolean"),
    Column("skipped", "boolean"),
    Column("offline", "boolean"),
    Column("offline_timestamp", "integer"),
    Column("incognito_mode", "boolean"),
)

EXTENDED_MUSIC = RawTable(
    "extended_music_streams",
    "Music records of the extended streaming history (endsong / Streaming_History_Audio files).",
    _EXTENDED_COMMON_START
    + (
        Column("master_metadata_track_name", "text"),
        Column("master_metadata_album_artist_name", "text"),
        Column("master_metadata_album_album_name", "text"),
        Column("spotify_track_uri", "text"),
    )
    + _EXTENDED_COMMON_END,
)
EXTENDED_EPISODES = RawTable(
    "extended_episode_streams",
    "Podcast and video episode records of the extended streaming history.",
    _EXTENDED_COMMON_START
    + (
        Column("episode_name", "text"),
        Column("episode_show_name", "text"),
        Column("spotify_episode_uri", "text"),
    )
    + _EXTENDED_COMMON_END,
)
EXTENDED_AUDIOBOOKS = RawTable(
    "extended_audiobook_streams",
    "Audiobook chapter records of the extended streaming history (exports from late 2024 on).",
    _EXTENDED_COMMON_START
    + (
        Column("audiobook_title", "text"),
        Column("audiobook_uri", "text"),
        Column("audiobook_chapter_uri", "text"),
        Column("audiobook_chapter_title", "text"),
    )
    + _EXTENDED_COMMON_END,
)


def _standard_columns(*content: str) -> tuple[Column, ...]:
    """An account-data record: when it ended, what played (text fields), and for how long."""
    return (Column("endTime", "standard_time", required=True), *(Column(name, "text") for name in content),
            Column("msPlayed", "integer", required=True, limits=MS_PLAYED_RANGE))


STANDARD_MUSIC = RawTable(
    "standard_music_streams",
    "Music records of the account-data export (StreamingHistory*.json, StreamingHistory_music_*.json).",
    _standard_columns("artistName", "trackName"),
)
STANDARD_EPISODES = RawTable(
    "standard_episode_streams",
    "Podcast records of the account-data export (StreamingHistory_podcast_*.json).",
    _standard_columns("podcastName", "episodeName"),
)
STANDARD_AUDIOBOOKS = RawTable(
    "standard_audiobook_streams",
    "Audiobook records of the account-data export (StreamingHistory_audiobook_*.json).",
    _standard_columns("audiobookName", "chapterName", "authorName"),
)

EXTENDED_TABLES = (EXTENDED_MUSIC, EXTENDED_EPISODES, EXTENDED_AUDIOBOOKS)
# Which table an extended record belongs to, by the fields its content fills (null and missing alike are empty):
# the first rule that holds wins, and a record no rule takes has no content. Record by record in Python
# (exports/parsing.py) and in bulk in SQL (exports/bulk_reading.py), both from these rules.
EXTENDED_TABLE_RULES = (
    (EXTENDED_EPISODES, "any", ("episode_name", "spotify_episode_uri")),
    (EXTENDED_AUDIOBOOKS, "any", ("audiobook_chapter_uri", "audiobook_title")),
    (EXTENDED_MUSIC, "all", ("master_metadata_track_name", "master_metadata_album_artist_name")),
)
RECORD_TABLES = (*EXTENDED_TABLES, STANDARD_MUSIC, STANDARD_EPISODES, STANDARD_AUDIOBOOKS)

# Rows a multi-row insert statement carries (SqlTable.insert): the statement and its parameters stay small.
INSERT_CHUNK_ROWS = 1000


@dataclass(frozen=True)
class SqlTable:
    """A raw table whose values arrive already typed (the poll's items, enrichment answers, what each import saw).
    Rows are made by column name (`row(...)`), so a row and its table cannot disagree about the order of columns."""

    name: str
    description: str
    columns: tuple[tuple[str, str], ...]  # (name, SQL type and constraints)

    @property
    def qualified_name(self) -> str:
        return f"raw.{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def create_statement(self) -> str:
        return f"CREATE TABLE IF NOT EXISTS {self.qualified_name} ({', '.join(f'{n} {t}' for n, t in self.columns)})"

    def insert(self, connection, rows: list[tuple], replace: bool = False) -> None:
        """Insert `rows` (made by `row`; none is no statement) as multi-row VALUES statements of INSERT_CHUNK_ROWS rows,
        each value a plain parameter. A prepared insert per row (`executemany`) took 5.1 s for 5,000 polled items on a
        file database, this 1.5 s (bench/RESULTS.md, 2026-12-07 21:19 section)."""
        one_row = f"({', '.join('?' * len(self.columns))})"
        for start in range(0, len(rows), INSERT_CHUNK_ROWS):
            chunk = rows[start:start + INSERT_CHUNK_ROWS]
            connection.execute(f"INSERT {'OR REPLACE ' if replace else ''}INTO {self.qualified_name} "
                               f"({', '.join(self.column_names)}) VALUES {', '.join([one_row] * len(chunk))}",
                               [value for row in chunk for value in row])

    def row(self, **values) -> tuple:
        """The values in the table's column order; a missing or unknown column is an error naming it."""
        if values.keys() != set(self.column_names):
            missing, unknown = set(self.column_names) - values.keys(), values.keys() - set(self.column_names)
            raise TypeError(f"{self.qualified_name}: missing {sorted(missing)}, unknown {sorted(unknown)}")
        return tuple(values[name] for name in self.column_names)


# Whose rows (counting rules, section 12): the tables of what a listener did or was told carry the listener, the
# export record tables theirs through raw.export_imports (an export's bytes are one listener's). Tables made before
# there were listeners gain the column, every row `default` (create_raw_tables).
LISTENER_COLUMN = ("listener", "VARCHAR NOT NULL DEFAULT 'default'")
# Each listener's own settings that the models read, written from the settings file before every build.
LISTENERS = SqlTable("listeners", "One row per listener: its time zone and whether it shares with friends.", (
    ("listener", "VARCHAR PRIMARY KEY"), ("timezone", "VARCHAR NOT NULL"), ("share_with_friends", "BOOLEAN NOT NULL")))

# Written by the recently-played poll: one row per item of each stored API response. It exists from
# the first build on, so the warehouse builds (and deduplicates) the same with or without live data.
RECENTLY_PLAYED_ITEMS = SqlTable("recently_played_items", "One row per recently-played item of a stored response.", (
    ("played_at", "TIMESTAMP NOT NULL"), ("track_id", "VARCHAR"), ("track_uri", "VARCHAR"), ("track_name", "VARCHAR"),
    ("duration_ms", "BIGINT"), ("explicit", "BOOLEAN"), ("is_local", "BOOLEAN"), ("isrc", "VARCHAR"),
    ("album_id", "VARCHAR"), ("album_name", "VARCHAR"), ("album_release_date", "VARCHAR"), ("artists_json", "VARCHAR"),
    ("context_type", "VARCHAR"), ("context_uri", "VARCHAR"), ("_response_file", "VARCHAR NOT NULL"),
    ("_item_index", "INTEGER NOT NULL"), ("_loaded_at", "TIMESTAMP NOT NULL"), LISTENER_COLUMN))
# One row per track looked up in the Spotify catalog (GET /v1/tracks/{id}); found = false for ids Spotify
# no longer knows, so they are not asked again.
CATALOG_TRACKS = SqlTable("catalog_tracks", "One row per track looked up in the Spotify catalog.", (
    ("track_id", "VARCHAR PRIMARY KEY"), ("track_uri", "VARCHAR"), ("found", "BOOLEAN"), ("track_name", "VARCHAR"),
    ("duration_ms", "BIGINT"), ("isrc", "VARCHAR"), ("album_id", "VARCHAR"), ("album_name", "VARCHAR"),
    ("album_release_date", "VARCHAR"), ("artists_json", "VARCHAR"), ("_landed_file", "VARCHAR"),
    ("_loaded_at", "TIMESTAMP")))
# Last.fm answers, one row per track or artist looked up (found or not); tags as JSON
# [{"name", "weight", "rank"}] in Last.fm's order. Keys are the warehouse's own track and artist keys.
LASTFM_TRACKS = SqlTable("lastfm_tracks", "One row per track looked up on Last.fm.", (
    ("track_key", "VARCHAR PRIMARY KEY"), ("artist_name", "VARCHAR"), ("track_name", "VARCHAR"), ("found", "BOOLEAN"),
    ("listeners", "BIGINT"), ("playcount", "BIGINT"), ("duration_ms", "BIGINT"), ("tags_json", "VARCHAR"),
    ("_landed_file", "VARCHAR"), ("_loaded_at", "TIMESTAMP")))
LASTFM_ARTISTS = SqlTable("lastfm_artists", "One row per artist looked up on Last.fm.", (
    ("artist_key", "VARCHAR PRIMARY KEY"), ("artist_name", "VARCHAR"), ("found", "BOOLEAN"), ("tags_json", "VARCHAR"),
    ("_landed_file", "VARCHAR"), ("_loaded_at", "TIMESTAMP")))

# Spotify's view of the listener (counting rules, section 10), from landing/spotify_view/: its top lists, one row per
# rank of each day's six lists; the playlists of each day's pull; and each playlist's items at each snapshot_id landed.
# Owners are reduced to owner_is_me: other people's user ids (and the listener's own) stay in landing.
SPOTIFY_TOP_ITEMS = SqlTable("spotify_top_items", "One row per rank of a day's top list.", (
    ("snapshot_date", "DATE NOT NULL"), ("time_range", "VARCHAR NOT NULL"), ("item_type", "VARCHAR NOT NULL"),
    ("rank", "INTEGER NOT NULL"), ("item_id", "VARCHAR"), ("item_uri", "VARCHAR"), ("item_name", "VARCHAR"),
    ("artists_json", "VARCHAR"), ("album_name", "VARCHAR"), ("_landed_file", "VARCHAR NOT NULL"),
    ("_loaded_at", "TIMESTAMP NOT NULL"), LISTENER_COLUMN))
PLAYLISTS = SqlTable("playlists", "One row per playlist of a day's pull of GET /v1/me/playlists.", (
    ("pulled_on", "DATE NOT NULL"), ("position", "INTEGER NOT NULL"), ("playlist_id", "VARCHAR"), ("name", "VARCHAR"),
    ("description", "VARCHAR"), ("owner_is_me", "BOOLEAN"), ("collaborative", "BOOLEAN"), ("public", "BOOLEAN"),
    ("snapshot_id", "VARCHAR"), ("items_total", "INTEGER"), ("items_status", "VARCHAR"),
    ("_landed_file", "VARCHAR NOT NULL"), ("_loaded_at", "TIMESTAMP NOT NULL"), LISTENER_COLUMN))
PLAYLIST_ITEMS = SqlTable("playlist_items", "One row per item of a playlist at one snapshot_id.", (
    ("playlist_id", "VARCHAR NOT NULL"), ("snapshot_id", "VARCHAR NOT NULL"), ("position", "INTEGER NOT NULL"),
    ("item_type", "VARCHAR"), ("item_id", "VARCHAR"), ("item_uri", "VARCHAR"), ("item_name", "VARCHAR"),
    ("artists_json", "VARCHAR"), ("album_name", "VARCHAR"), ("duration_ms", "BIGINT"), ("isrc", "VARCHAR"),
    ("added_at", "TIMESTAMP"), ("is_local", "BOOLEAN"), ("is_playable", "BOOLEAN"), ("_landed_file", "VARCHAR NOT NULL"),
    ("_loaded_at", "TIMESTAMP NOT NULL"), LISTENER_COLUMN))
SPOTIFY_VIEW_TABLES = (SPOTIFY_TOP_ITEMS, PLAYLISTS, PLAYLIST_ITEMS)

# A catalog file of tracks with audio features (counting rules, section 11), from landing/catalog_files/: its rows that
# are tracks with plausible features, the rows it could not take (with the reasons and the row), and each file's counts.
_FEATURE_COLUMNS = tuple((name, "DOUBLE") for name in (
    "danceability", "energy", "valence", "acousticness", "instrumentalness", "speechiness", "liveness", "tempo",
    "loudness", "duration_ms"))
CATALOG_FILE_TRACKS = SqlTable("catalog_file_tracks", "One row per track of a landed catalog file.", (
    ("file_hash", "VARCHAR NOT NULL"), ("row_index", "BIGINT NOT NULL"), ("track_id", "VARCHAR"), ("isrc", "VARCHAR"),
    ("track_name", "VARCHAR NOT NULL"), ("artist_name", "VARCHAR"), ("artists", "VARCHAR"), ("album_name", "VARCHAR"),
    *_FEATURE_COLUMNS, ("_loaded_at", "TIMESTAMP NOT NULL")))
CATALOG_FILE_QUARANTINE = SqlTable("catalog_file_quarantine", "Every catalog-file row not taken, with its reasons.", (
    ("file_hash", "VARCHAR NOT NULL"), ("row_index", "BIGINT NOT NULL"), ("reason", "VARCHAR NOT NULL"),
    ("row_json", "VARCHAR")))
CATALOG_FILES = SqlTable("catalog_files", "One row per landed catalog file read.", (
    ("file_hash", "VARCHAR PRIMARY KEY"), ("file_name", "VARCHAR"), ("rows_accepted", "BIGINT"),
    ("rows_quarantined", "BIGINT"), ("loaded_at", "TIMESTAMP")))
# ReccoBeats' answers: one row per Spotify track it gave features for (landing/reccobeats/).
RECCOBEATS_FEATURES = SqlTable("reccobeats_audio_features", "One row per Spotify track ReccoBeats has features for.", (
    ("spotify_id", "VARCHAR PRIMARY KEY"), ("reccobeats_id", "VARCHAR"), *_FEATURE_COLUMNS[:-1],
    ("_landed_file", "VARCHAR NOT NULL"), ("_loaded_at", "TIMESTAMP NOT NULL")))
CATALOG_FILE_TABLES = (CATALOG_FILE_TRACKS, CATALOG_FILE_QUARANTINE, CATALOG_FILES, RECCOBEATS_FEATURES)

# Bookkeeping tables: what each import saw, file by file, and the records it could not read.
EXPORT_IMPORTS = SqlTable("export_imports", "One row per imported export.", (
    ("export_hash", "VARCHAR PRIMARY KEY"), ("export_name", "VARCHAR"), ("export_kind", "VARCHAR"),
    ("parser_version", "INTEGER"), ("imported_at", "TIMESTAMP"), ("files_read", "INTEGER"), ("files_ignored", "INTEGER"),
    ("files_unreadable", "INTEGER"), ("records_accepted", "BIGINT"), ("records_quarantined", "BIGINT"),
    ("records_without_content", "BIGINT"), LISTENER_COLUMN))
EXPORT_FILES = SqlTable("export_files", "Every file of every export and what became of it.", (
    ("export_hash", "VARCHAR"), ("file_path", "VARCHAR"), ("file_role", "VARCHAR"), ("status", "VARCHAR"),
    ("records_accepted", "BIGINT"), ("records_quarantined", "BIGINT"), ("records_without_content", "BIGINT"),
    ("message", "VARCHAR")))
QUARANTINED_RECORDS = SqlTable("quarantined_records", "Every record an import could not read, with its reason.", (
    ("export_hash", "VARCHAR"), ("file_path", "VARCHAR"), ("record_index", "INTEGER"), ("reason", "VARCHAR"),
    ("record_json", "VARCHAR")))
BOOKKEEPING_TABLES = (EXPORT_IMPORTS, EXPORT_FILES, QUARANTINED_RECORDS)
LISTENER_TABLES = (EXPORT_IMPORTS, RECENTLY_PLAYED_ITEMS, *SPOTIFY_VIEW_TABLES)
SQL_TABLES = (LISTENERS, *BOOKKEEPING_TABLES, RECENTLY_PLAYED_ITEMS, CATALOG_TRACKS, LASTFM_TRACKS, LASTFM_ARTISTS,
              *SPOTIFY_VIEW_TABLES, *CATALOG_FILE_TABLES)


def create_raw_tables(connection) -> None:
    connection.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for table in RECORD_TABLES:
        connection.execute(table.create_statement())
    for table in SQL_TABLES:
        connection.execute(table.create_statement())
    with_listener = {name for (name,) in connection.execute(
        "SELECT table_name FROM duckdb_columns() WHERE schema_name = 'raw' AND column_name = 'listener'").fetchall()}
    for table in LISTENER_TABLES:
        if table.name not in with_listener:  # made before there were listeners: every row is `default`'s
            connection.execute(f"ALTER TABLE {table.qualified_name} ADD COLUMN listener VARCHAR DEFAULT 'default'")
