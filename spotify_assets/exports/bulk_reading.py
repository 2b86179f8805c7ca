"""Extended-history files read and typed by DuckDB's JSON reader: the fast path for big histories.

A million plays arrive as some sixty 11 MB extended-history files, and reading them record by record in
Python (json.loads, a typing call per value, a DataFrame per file) was the largest part of an import.
DuckDB reads and types them on its own threads: the benchmark's four 1M-play exports import in 22 s
instead of 28-31 s (bench/RESULTS.md). The fast path takes a file only when every record in it is one
the record-by-record parser (`parsing.py`) would take unchanged: a JSON object whose fields have the
type the export format promises (text as a string, a count as an integer, `ts` as
`YYYY-MM-DDTHH:MM:SSZ`). A file with anything else (a record to quarantine, a value to convert, a shape
DuckDB will not read) goes to `parsing.py` whole, so every quarantine reason and lenient conversion
stays in one place, and both paths give the same rows (tests/test_bulk_reading.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from .parsing import KNOWN_EXTENDED_FIELDS
from ..raw_tables import EXTENDED_AUDIOBOOKS, EXTENDED_EPISODES, EXTENDED_MUSIC, Column, RawTable

EXTENDED_TABLES = (EXTENDED_MUSIC, EXTENDED_EPISODES, EXTENDED_AUDIOBOOKS)
_FIELDS = {column.name: column for table in EXTENDED_TABLES for column in table.columns}
# Every known field read as the JSON text of its value, so a number where text belongs is still visible.
_READ_COLUMNS = "{" + ", ".join(f"'{name}': 'JSON'" for name in _FIELDS) + "}"
# The record's content decides its table, as parsing._extended_table does (SQL NULL: missing or null).
_TABLE_OF_RECORD = f"""CASE
    WHEN episode_name IS NOT NULL OR spotify_episode_uri IS NOT NULL THEN '{EXTENDED_EPISODES.name}'
    WHEN audiobook_chapter_uri IS NOT NULL OR audiobook_title IS NOT NULL THEN '{EXTENDED_AUDIOBOOKS.name}'
    WHEN master_metadata_track_name IS NOT NULL AND master_metadata_album_artist_name IS NOT NULL
        THEN '{EXTENDED_MUSIC.name}'
END"""
# Exactly the format exports write; fromisoformat takes more, and those go to parsing.py.
_TIMESTAMP_PATTERN = r'"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"'
_TIMESTAMP_FORMAT = '"%Y-%m-%dT%H:%M:%SZ"'
_STARTS_AS_ARRAY = re.compile(rb"\s*\[")


@dataclass
class BulkRead:
    accepted_by_table: dict[str, int]
    without_content: int
    unknown_fields: list[str]


def _native(column: Column) -> str:
    """True when the JSON value is what the export format promises for this column (or absent, if allowed)."""
    value = f'"{column.name}"'
    text = f"{value}::VARCHAR"  # the value's JSON text: a string starts with a quote, true is `true`
    test = {
        "text": f"starts_with({text}, '\"')",
        "integer": f"regexp_full_match({text}, '-?[0-9]{{1,18}}')",
        "boolean": f"{text} IN ('true', 'false')",
        "timestamp": f"regexp_full_match({text}, '{_TIMESTAMP_PATTERN}') "
                     f"AND try_strptime({text}, '{_TIMESTAMP_FORMAT}') IS NOT NULL",
    }[column.kind]
    return f"(({test}) IS TRUE)" if column.required else f"({value} IS NULL OR ({test}) IS TRUE)"


def _typed(column: Column) -> str:
    value = f'"{column.name}"'
    return {
        "text": f"json_extract_string({value}, '$')",
        "integer": f"CAST({value} AS BIGINT)",
        "boolean": f"CAST({value} AS BOOLEAN)",
        "timestamp": f"strptime({value}::VARCHAR, '{_TIMESTAMP_FORMAT}')",
    }[column.kind]


def _all_native(columns: tuple[Column, ...]) -> str:
    return " AND ".join(_native(column) for column in columns)


_RECORD_IS_NATIVE = (
    f"CASE table_name "
    + " ".join(f"WHEN '{table.name}' THEN {_all_native(table.columns)}" for table in EXTENDED_TABLES)
    # A record without content is only counted, but it still needs its ts and ms_played.
    + f" ELSE {_all_native(tuple(column for column in EXTENDED_MUSIC.columns if column.required))} END"
)


def could_read_in_bulk(content: bytes) -> bool:
    """Files that are not a JSON array (or are empty) are reported by parsing.py, not guessed at here."""
    return _STARTS_AS_ARRAY.match(content) is not None


def read_extended_file(connection, json_file: str, staged: Callable[[str], str], provenance: tuple) -> BulkRead | None:
    """Stage every record of one extended-history file, or None (nothing staged) if parsing.py must read it.

    `staged(raw table name)` names where the table's rows wait for the import's transaction;
    `provenance` is (export hash, file path in the export, loaded at) for every row.
    """
    try:
        # Outside any transaction, and with insertion order preserved (DuckDB's default), a new table's
        # rowid is the record's index in the file: cheaper than row_number(), which holds every row.
        connection.execute(
            "CREATE OR REPLACE TEMP TABLE extended_file_records AS "
            f"SELECT *, {_TABLE_OF_RECORD} AS table_name FROM read_json(?, format = 'array', columns = {_READ_COLUMNS})",
            [json_file],
        )
    except duckdb.Error:
        return None  # not JSON DuckDB reads (cut short, not UTF-8, duplicate keys, ...): parsing.py says why
    try:
        counts = connection.execute(
            f"SELECT table_name, count(*), bool_and({_RECORD_IS_NATIVE}) FROM extended_file_records GROUP BY table_name"
        ).fetchall()
        if not all(native for _, _, native in counts):
            return None
        for table in EXTENDED_TABLES:
            _stage_rows(connection, table, staged(table.name), provenance)
        fields = connection.execute(
            "SELECT DISTINCT unnest(json_keys(json)) FROM read_json_objects(?, format = 'array')", [json_file]
        ).fetchall()
    finally:
        connection.execute("DROP TABLE extended_file_records")
    by_table = {table_name: count for table_name, count, _ in counts}
    return BulkRead(
        accepted_by_table={table.name: by_table[table.name] for table in EXTENDED_TABLES if table.name in by_table},
        without_content=by_table.get(None, 0),
        unknown_fields=sorted({field for (field,) in fields} - KNOWN_EXTENDED_FIELDS),
    )


def _stage_rows(connection, table: RawTable, staged_table: str, provenance: tuple) -> None:
    names = ", ".join(f'"{column.name}"' for column in table.columns)
    connection.execute(
        f"INSERT INTO {staged_table} ({names}, _record_index, _export_hash, _file_path, _loaded_at) "
        f"SELECT {', '.join(_typed(column) for column in table.columns)}, rowid, ?, ?, ? "
        f"FROM extended_file_records WHERE table_name = ? ORDER BY rowid",
        [*provenance, table.name],
    )
