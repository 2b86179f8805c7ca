"""Extended-history files read by DuckDB land exactly as the record-by-record parser would land them.

The oracle is parsing.parse_member, the path every file took before the fast path existed: for each file the
import's rows, counts and messages must equal what parse_member makes of the same bytes, whichever path ran.
"""

import json
import random

import duckdb
import pytest
from test_parsing import NEW_EXTENDED_CHAPTER, OLD_EXTENDED_MUSIC

from spotify_assets.lib.exports.bulk_reading import ExtendedFile, read_extended_files
from spotify_assets.lib.exports.importing import import_export
from spotify_assets.lib.exports.landing import receive_export
from spotify_assets.lib.exports.members import Member
from spotify_assets.lib.exports.parsing import parse_member
from spotify_assets.lib.raw_tables import (
    EXTENDED_TABLES,
    RECORD_TABLES,
    create_raw_tables,
)

FILE_NAME = "Streaming_History_Audio_2019_0.json"
EPISODE = dict(OLD_EXTENDED_MUSIC, master_metadata_track_name=None, master_metadata_album_artist_name=None,
               master_metadata_album_album_name=None, spotify_track_uri=None, episode_name="Folge 12: \"Teil\" 2",
               episode_show_name="Café\\Bar 🎧", spotify_episode_uri="spotify:episode:e")
WITHOUT_CONTENT = dict(OLD_EXTENDED_MUSIC, master_metadata_track_name=None, master_metadata_album_artist_name=None,
                       master_metadata_album_album_name=None, spotify_track_uri=None)


def _clean_records(count: int = 400) -> list[dict]:
    """Every record kind of both key-set generations, optional fields null or missing, in shuffled time order."""
    chooser = random.Random(3)
    records = []
    for index in range(count):
        template = chooser.choice([OLD_EXTENDED_MUSIC, OLD_EXTENDED_MUSIC, EPISODE, NEW_EXTENDED_CHAPTER, WITHOUT_CONTENT])
        record = dict(template, ts=f"20{10 + index % 15}-0{1 + index % 9}-{10 + index % 18}T{index % 24:02}:{index % 60:02}:07Z",
                      ms_played=chooser.randrange(0, 3_000_000), offline_timestamp=chooser.choice([None, -1, 1553995812000]))
        if index % 7 == 0:
            del record["skipped"]  # an optional field missing altogether
        if index % 50 == 0:
            record["extra_new_field"] = index  # a field this version does not know
        records.append(record)
    return records


def _python_path(content: bytes, path: str):
    parsed = parse_member(Member(path, content), "extended")
    rows = {name: [tuple(row) for row in table_rows] for name, table_rows in parsed.rows.items()}
    return parsed, rows


def _imported_rows(connection) -> dict[str, list[tuple]]:
    rows = {}
    for table in RECORD_TABLES:
        names = ", ".join(f'"{column.name}"' for column in table.columns)
        found = connection.execute(f"SELECT {names}, _record_index FROM {table.qualified_name} ORDER BY _record_index").fetchall()
        if found:
            rows[table.name] = found
    return rows


def _import_file(content: bytes, warehouse, tmp_path):
    export = tmp_path / "export" / FILE_NAME
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_bytes(content)
    summary = import_export(warehouse, receive_export(export.parent, tmp_path / "landing"))
    (outcome,) = summary.files
    return outcome


def _assert_same_as_python_path(content: bytes, warehouse, tmp_path):
    outcome = _import_file(content, warehouse, tmp_path)
    parsed, rows = _python_path(content, FILE_NAME)
    assert (outcome.status, outcome.accepted, outcome.quarantined, outcome.without_content, outcome.message) == (
        parsed.status, parsed.accepted, len(parsed.quarantined), parsed.without_content, parsed.message)
    assert _imported_rows(warehouse) == rows
    quarantined = warehouse.execute(
        "SELECT record_index, reason, record_json FROM raw.quarantined_records ORDER BY record_index").fetchall()
    assert quarantined == [tuple(record) for record in parsed.quarantined]
    return outcome


def _staging_connection():
    """An in-memory DuckDB with the raw tables and the temporary tables bulk reading stages into."""
    connection = duckdb.connect()
    create_raw_tables(connection)
    for table in EXTENDED_TABLES:
        connection.execute(f"CREATE TEMP TABLE staged_{table.name} AS SELECT * FROM {table.qualified_name} LIMIT 0")
    return connection


def _read_in_bulk(content: bytes, tmp_path):
    json_file = tmp_path / "bulk" / FILE_NAME
    json_file.parent.mkdir(parents=True, exist_ok=True)
    json_file.write_bytes(content)
    connection = _staging_connection()
    reads = read_extended_files(connection, [ExtendedFile(json_file, FILE_NAME)], lambda name: f"temp.staged_{name}",
                                "hash", None)
    read = reads.get(FILE_NAME)
    staged = sum(connection.execute(f"SELECT count(*) FROM temp.staged_{table.name}").fetchall()[0][0]
                 for table in EXTENDED_TABLES)
    return read, staged


def test_a_clean_file_is_read_in_bulk_into_the_same_rows_as_record_by_record(warehouse, tmp_path):
    content = json.dumps(_clean_records(), ensure_ascii=False, indent=1).encode()
    read, staged = _read_in_bulk(content, tmp_path)
    assert read is not None and staged == sum(read.accepted_by_table.values()) > 0
    assert read.unknown_fields == ["extra_new_field"]
    assert set(read.accepted_by_table) == {table.name for table in EXTENDED_TABLES} and read.without_content > 0
    outcome = _assert_same_as_python_path(content, warehouse, tmp_path)
    assert outcome.message == "unknown fields ignored: extra_new_field"
    # Provenance and personal fields: the file's path on every row, no IP address anywhere.
    assert warehouse.execute("SELECT DISTINCT _file_path FROM raw.extended_music_streams").fetchall() == [(FILE_NAME,)]
    assert "198.51.100.7" not in str(_imported_rows(warehouse))


def test_record_indexes_follow_the_file_order_over_many_records(warehouse, tmp_path):
    records = _clean_records(20_000)
    content = json.dumps(records).encode()
    assert _read_in_bulk(content, tmp_path)[0] is not None
    _import_file(content, warehouse, tmp_path)
    stored = dict(warehouse.execute(
        "SELECT _record_index, strftime(ts, '%Y-%m-%dT%H:%M:%SZ') FROM raw.extended_music_streams "
        "UNION ALL SELECT _record_index, strftime(ts, '%Y-%m-%dT%H:%M:%SZ') FROM raw.extended_episode_streams "
        "UNION ALL SELECT _record_index, strftime(ts, '%Y-%m-%dT%H:%M:%SZ') FROM raw.extended_audiobook_streams").fetchall())
    assert stored and all(records[index]["ts"] == ts for index, ts in stored.items())


@pytest.mark.parametrize("change", [
    {"ms_played": "215000"}, {"shuffle": "true"}, {"skipped": 0}, {"offline_timestamp": 1553995812000.0},
    {"master_metadata_track_name": 1999}, {"ts": "2019-03-31T03:30:12+02:00"}, {"ts": "2019-03-31T01:30:12.250Z"},
    {"ts": "2019-02-30T01:30:12Z"}, {"ts": "2019-03-31T01:30:60Z"}, {"ts": "2019-3-31T1:30:12Z"}, {"ts": None},
    {"ms_played": None}, {"ms_played": -5.5}, {"spotify_track_uri": {"id": "abc"}}, {"episode_name": True},
    # Hostile values: each once sank its whole export with a traceback.
    {"ms_played": 10**19}, {"ms_played": 1e300}, {"ms_played": "--5"}, {"ms_played": "²"}, {"ms_played": -1},
    {"ms_played": 86_400_001}, {"ts": "0001-01-01T00:30:00+01:00"}, {"ts": "1999-12-31T23:59:59Z"},
    {"master_metadata_track_name": "\udc80"}, {"offline_timestamp": 2**63},
], ids=str)
def test_a_file_with_any_record_to_convert_or_quarantine_is_read_record_by_record(change, warehouse, tmp_path):
    records = _clean_records(60)
    records[31] = dict(OLD_EXTENDED_MUSIC, **change)  # a music record, whose every field counts
    content = json.dumps(records).encode()
    assert _read_in_bulk(content, tmp_path) == (None, 0)
    _assert_same_as_python_path(content, warehouse, tmp_path)


@pytest.mark.parametrize("content", [
    b"\xef\xbb\xbf" + json.dumps([OLD_EXTENDED_MUSIC]).encode(),  # a byte-order mark
    json.dumps([OLD_EXTENDED_MUSIC, OLD_EXTENDED_MUSIC]).encode()[:-300],  # cut short
    b"", b"  \n", b"[]", json.dumps(OLD_EXTENDED_MUSIC).encode(),  # empty, blank, no records, not an array
    json.dumps([OLD_EXTENDED_MUSIC, 42, None]).encode(),  # records that are not objects
    json.dumps([OLD_EXTENDED_MUSIC]).replace('"Homogenic"', '"Homogenic", "ms_played": 1').encode(),  # a key twice
    json.dumps([OLD_EXTENDED_MUSIC], ensure_ascii=False).encode().replace("Jóga".encode(), b"J\xf3ga"),  # Latin-1
], ids=["bom", "cut-short", "empty", "blank", "no-records", "object", "not-objects", "duplicate-key", "latin-1"])
def test_files_duckdb_reads_differently_land_as_the_record_by_record_parser_says(content, warehouse, tmp_path):
    _assert_same_as_python_path(content, warehouse, tmp_path)


def test_files_read_together_each_land_as_the_record_by_record_parser_says(warehouse, tmp_path):
    """One bulk read takes many files; one that DuckDB refuses, or with a record to quarantine, goes alone."""
    records = _clean_records(300)
    quarantined = list(records)
    quarantined[5] = dict(OLD_EXTENDED_MUSIC, ms_played="lots")
    files = {
        "Streaming_History_Audio_2019_0.json": json.dumps(records[:120]).encode(),
        "Streaming_History_Audio_2019_1.json": json.dumps(quarantined).encode(),
        "Streaming_History_Audio_2019_2.json": json.dumps(records)[:-500].encode(),  # cut short
        "Streaming_History_Audio_2019_3.json": b"[]",
        "Streaming_History_Audio_2019_4.json": json.dumps(records[120:]).encode(),
    }
    export = tmp_path / "export"
    export.mkdir()
    for name, content in files.items():
        (export / name).write_bytes(content)
    summary = import_export(warehouse, receive_export(export, tmp_path / "landing"))
    assert [outcome.path for outcome in summary.files] == list(files)  # the export's order
    for outcome, (name, content) in zip(summary.files, files.items()):
        parsed, rows = _python_path(content, name)
        assert (outcome.status, outcome.accepted, outcome.quarantined, outcome.without_content, outcome.message) == (
            parsed.status, parsed.accepted, len(parsed.quarantined), parsed.without_content, parsed.message)
        stored = {}
        for table in RECORD_TABLES:
            names = ", ".join(f'"{column.name}"' for column in table.columns)
            found = warehouse.execute(f"SELECT {names}, _record_index FROM {table.qualified_name} "
                                      "WHERE _file_path = ? ORDER BY _record_index", [name]).fetchall()
            if found:
                stored[table.name] = found
        assert stored == rows, name
    # The clean files were read together in bulk, the other two record by record.
    connection = _staging_connection()
    reads = read_extended_files(connection, [ExtendedFile(export / name, name) for name in files],
                                lambda name: f"temp.staged_{name}", "hash", None)
    assert sorted(reads) == ["Streaming_History_Audio_2019_0.json", "Streaming_History_Audio_2019_3.json",
                             "Streaming_History_Audio_2019_4.json"]
