"""Extended-history files read and typed by DuckDB's JSON reader: the fast path for big histories.

A million plays arrive as some sixty 11 MB extended-history files, and reading them record by record in
Python (json.loads, a typing call per value, a DataFrame per file) was the largest part of an import.
DuckDB reads and types many files per statement on both cores: the benchmark's four 1M-play exports import
in 10-12 s instead of 22-24 s (bench/RESULTS.md). The fast path takes a file only when every record in it is one
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
from datetime import datetime
from pathlib import Path

import duckdb

from spotify_assets.lib.exports.parsing import KNOWN_EXTENDED_FIELDS
from spotify_assets.lib.raw_tables import (
    BIGINT_RANGE,
    EXTENDED_MUSIC,
    EXTENDED_TABLE_RULES,
    EXTENDED_TABLES,
    FIRST_PLAUSIBLE_YEAR,
    Column,
    RawTable,
)

_FIELDS = {column.name: column for table in EXTENDED_TABLES for column in table.columns}
# Every known field read as the JSON text of its value, so a number where text belongs is still visible.
_READ_COLUMNS = "{" + ", ".join(f"'{name}': 'JSON'" for name in _FIELDS) + "}"
# The record's content decides its table, by raw_tables.EXTENDED_TABLE_RULES (SQL NULL: missing or null).
_TABLE_OF_RECORD = "CASE " + " ".join(
    f"WHEN {(' OR ' if quantifier == 'any' else ' AND ').join(f'{field} IS NOT NULL' for field in fields)} "
    f"THEN '{table.name}'" for table, quantifier, fields in EXTENDED_TABLE_RULES) + " END"
# Exactly the format exports write; fromisoformat takes more, and those go to parsing.py.
_TIMESTAMP_PATTERN = r'"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"'
_TIMESTAMP_FORMAT = '"%Y-%m-%dT%H:%M:%SZ"'
_STARTS_AS_ARRAY = re.compile(rb"\s*\[")
# A JSON escape of a UTF-16 surrogate may stand alone, which no database stores: parsing.py checks such files.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


@dataclass(frozen=True)
class ExtendedFile:
    json_file: Path  # where DuckDB reads it
    member_path: str  # its path in the export
    first_index: int = 0  # the index in the member of the file's first record (a piece of a large member)


@dataclass
class BulkRead:
    accepted_by_table: dict[str, int]
    without_content: int
    unknown_fields: list[str]


def _native(column: Column) -> str:
    """True when the JSON value is what the export format promises for this column (or absent, if allowed)."""
    value = f'"{column.name}"'
    text = f"{value}::VARCHAR"  # the value's JSON text: a string starts with a quote, true is `true`
    low, high = column.limits
    # The same plausibility parsing._check_plausible asks for; a value outside goes to parsing.py's quarantine.
    test = {
        "text": f"starts_with({text}, '\"')",
        "integer": f"regexp_full_match({text}, '-?[0-9]{{1,18}}')"
                   + (f" AND TRY_CAST({text} AS BIGINT) BETWEEN {low} AND {high}" if column.limits != BIGINT_RANGE else ""),
        "boolean": f"{text} IN ('true', 'false')",
        "timestamp": f"regexp_full_match({text}, '{_TIMESTAMP_PATTERN}') "
                     f"AND year(try_strptime({text}, '{_TIMESTAMP_FORMAT}')) "
                     f"BETWEEN {FIRST_PLAUSIBLE_YEAR} AND year(current_date) + 1",
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
    "CASE table_name "
    + " ".join(f"WHEN '{table.name}' THEN {_all_native(table.columns)}" for table in EXTENDED_TABLES)
    # A record without content is only counted, but it still needs its ts and ms_played.
    + f" ELSE {_all_native(tuple(column for column in EXTENDED_MUSIC.columns if column.required))} END"
)


def could_read_in_bulk(content: bytes) -> bool:
    """Files that are not a JSON array (or are empty) are reported by parsing.py, not guessed at here, and so are
    files whose strings may not be valid Unicode."""
    return _STARTS_AS_ARRAY.match(content) is not None and _SURROGATE_ESCAPE.search(content) is None


def read_extended_files(connection, files: list[ExtendedFile], staged: Callable[[str], str], export_hash: str,
                        loaded_at: datetime) -> dict[str, BulkRead]:
    """Stage every record of each file DuckDB reads and finds native throughout; the result names them by
    member path. The other files stage nothing: parsing.py reads them.

    `staged(raw table name)` names where the table's rows wait for the import's transaction.
    """
    if not files:
        return {}
    try:
        # Outside any transaction, and with insertion order preserved (DuckDB's default), a new table's rowids
        # follow the files and the records in each: rowid minus the file's first is the record's index.
        connection.execute(
            "CREATE OR REPLACE TEMP TABLE extended_file_records AS "
            f"SELECT *, {_TABLE_OF_RECORD} AS table_name "
            f"FROM read_json(?, format = 'array', columns = {_READ_COLUMNS}, filename = true)",
            [[str(file.json_file) for file in files]],
        )
    except duckdb.Error:
        if len(files) == 1:
            return {}  # not JSON DuckDB reads (cut short, not UTF-8, duplicate keys, ...): parsing.py says why
        # One file DuckDB refuses fails the whole read: read each on its own to find it.
        return {path: read for file in files
                for path, read in read_extended_files(connection, [file], staged, export_hash, loaded_at).items()}
    try:
        counts = connection.execute(
            f"SELECT filename, table_name, count(*), min(rowid), bool_and({_RECORD_IS_NATIVE}) "
            "FROM extended_file_records GROUP BY ALL"
        ).fetchall()
        by_file = {str(file.json_file): file for file in files}
        refused = {filename for filename, _, _, _, native in counts if not native}
        accepted = [file for file in files if str(file.json_file) not in refused]
        first_rowids = {}
        for filename, _, _, first, _ in counts:
            first_rowids[filename] = min(first, first_rowids.get(filename, first))
        connection.execute("CREATE OR REPLACE TEMP TABLE extended_file_starts "
                           "(filename VARCHAR, member_path VARCHAR, first_rowid BIGINT, first_index BIGINT)")
        starts = [(filename, by_file[filename].member_path, first, by_file[filename].first_index)
                  for filename, first in first_rowids.items() if filename not in refused]
        if starts:
            connection.executemany("INSERT INTO extended_file_starts VALUES (?, ?, ?, ?)", starts)
            for table in EXTENDED_TABLES:
                _stage_rows(connection, table, staged(table.name), export_hash, loaded_at)
        fields = connection.execute(
            "SELECT DISTINCT filename, unnest(json_keys(json)) FROM read_json_objects(?, format = 'array', filename = true)",
            [[str(file.json_file) for file in accepted]],
        ).fetchall() if accepted else []
    finally:
        connection.execute("DROP TABLE IF EXISTS extended_file_records")
        connection.execute("DROP TABLE IF EXISTS extended_file_starts")
    reads = {}
    for file in accepted:
        name = str(file.json_file)
        by_table = {table_name: count for filename, table_name, count, _, _ in counts if filename == name}
        reads[file.member_path] = BulkRead(
            accepted_by_table={table.name: by_table[table.name] for table in EXTENDED_TABLES if table.name in by_table},
            without_content=by_table.get(None, 0),
            unknown_fields=sorted({field for filename, field in fields if filename == name} - KNOWN_EXTENDED_FIELDS),
        )
    return reads


def _stage_rows(connection, table: RawTable, staged_table: str, export_hash: str, loaded_at: datetime) -> None:
    names = ", ".join(f'"{column.name}"' for column in table.columns)
    connection.execute(
        f"INSERT INTO {staged_table} ({names}, _record_index, _export_hash, _file_path, _loaded_at) "
        f"SELECT {', '.join(_typed(column) for column in table.columns)}, "
        "records.rowid - starts.first_rowid + starts.first_index, ?, starts.member_path, ? "
        "FROM extended_file_records AS records INNER JOIN extended_file_starts AS starts USING (filename) "
        "WHERE records.table_name = ? ORDER BY records.rowid",
        [export_hash, loaded_at, table.name],
    )
