"""Bad input gets a clear error naming the file (and record) and loses nothing else."""

import json
import zipfile
from pathlib import Path

from conftest import raw_counts, write_json
from spotify_assets.exports.importing import import_export
from spotify_assets.exports.landing import receive_export
from test_parsing import OLD_EXTENDED_MUSIC


def _import(path: Path, connection, tmp_path: Path):
    return import_export(connection, receive_export(path, tmp_path / "landing"))


def _outcome(summary, name: str):
    return next(f for f in summary.files if f.path.endswith(name))


def test_truncated_zip_keeps_every_complete_file_and_the_readable_start_of_the_cut_one(warehouse, tmp_path):
    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number in range(3):
            records = [dict(OLD_EXTENDED_MUSIC, ms_played=1000 * number + index) for index in range(300)]
            archive.writestr(f"MyData/endsong_{number}.json", json.dumps(records))
        archive.writestr("MyData/ReadMeFirst_ExtendedStreamingHistory.pdf", b"%PDF")
    data = whole.read_bytes()
    with zipfile.ZipFile(whole) as archive:
        third = archive.getinfo("MyData/endsong_2.json")
    cut = tmp_path / "my_spotify_data.zip"  # an interrupted download: ends inside endsong_2.json
    cut.write_bytes(data[: third.header_offset + 30 + len(third.filename) + third.compress_size // 2])

    summary = _import(cut, warehouse, tmp_path)
    assert [(f.path, f.status, f.accepted) for f in summary.files[:2]] == [
        ("MyData/endsong_0.json", "parsed", 300), ("MyData/endsong_1.json", "parsed", 300)]
    cut_file = summary.files[2]
    assert cut_file.path == "MyData/endsong_2.json" and cut_file.status == "partial"
    assert "zip truncated" in cut_file.message and "complete records" in cut_file.message
    assert 0 < cut_file.accepted < 300
    assert raw_counts(warehouse)["extended_music_streams"] == 600 + cut_file.accepted


def test_a_zip_that_is_not_a_zip_is_recorded_as_unreadable_not_a_crash(warehouse, tmp_path):
    fake = tmp_path / "inbox" / "my_spotify_data.zip"
    fake.parent.mkdir()
    fake.write_bytes(b"<html>download expired</html>")
    summary = _import(fake, warehouse, tmp_path)
    (outcome,) = summary.files
    assert outcome.status == "unreadable" and "my_spotify_data.zip: not a zip archive" in outcome.message
    assert warehouse.execute("SELECT files_unreadable FROM raw.export_imports").fetchall() == [(1,)]


def test_not_json_and_not_an_array_are_named_and_the_rest_still_lands(warehouse, tmp_path):
    folder = tmp_path / "export"
    write_json(folder / "MyData" / "endsong_0.json", [OLD_EXTENDED_MUSIC] * 3)
    (folder / "MyData" / "endsong_1.json").write_text("this is not json")
    write_json(folder / "MyData" / "endsong_2.json", {"ts": "2020-01-01T00:00:00Z"})
    summary = _import(folder, warehouse, tmp_path)
    assert _outcome(summary, "endsong_0.json").accepted == 3
    assert _outcome(summary, "endsong_1.json").status == "unreadable"
    assert "not a JSON array" in _outcome(summary, "endsong_1.json").message
    assert _outcome(summary, "endsong_2.json").message == "JSON is an object, expected an array of records"
    assert raw_counts(warehouse)["extended_music_streams"] == 3
    stored = warehouse.execute("SELECT file_path, status FROM raw.export_files ORDER BY file_path").fetchall()
    assert stored == [("MyData/endsong_0.json", "parsed"), ("MyData/endsong_1.json", "unreadable"),
                      ("MyData/endsong_2.json", "unreadable")]


def test_a_json_array_cut_short_keeps_its_complete_records(warehouse, tmp_path):
    text = json.dumps([OLD_EXTENDED_MUSIC] * 5)
    path = tmp_path / "endsong_0.json"
    path.write_text(text[: len(text) - 40])
    summary = _import(path, warehouse, tmp_path)
    (outcome,) = summary.files
    assert outcome.status == "partial" and outcome.accepted == 4
    assert "invalid JSON at line 1" in outcome.message and "kept the 4 complete records" in outcome.message


def test_records_with_wrong_types_are_quarantined_with_file_index_and_reason(warehouse, tmp_path):
    records = [OLD_EXTENDED_MUSIC, dict(OLD_EXTENDED_MUSIC, ms_played="lots"), {"ts": "2020-01-01T00:00:00Z"}]
    summary = _import(write_json(tmp_path / "in" / "endsong_0.json", records), warehouse, tmp_path)
    assert summary.count("accepted") == 1 and summary.count("quarantined") == 2 and summary.count("without_content") == 0
    quarantined = warehouse.execute(
        "SELECT file_path, record_index, reason, record_json FROM raw.quarantined_records ORDER BY record_index").fetchall()
    assert [(path, index, reason) for path, index, reason, _ in quarantined] == [
        ("endsong_0.json", 1, "field 'ms_played': expected an integer, got 'lots'"),
        ("endsong_0.json", 2, "required field 'ms_played' is missing"),
    ]
    record = json.loads(quarantined[0][3])
    assert record["ms_played"] == "lots" and "username" not in record


def test_empty_export_and_zero_byte_file(warehouse, tmp_path):
    empty_zip = tmp_path / "empty.zip"
    zipfile.ZipFile(empty_zip, "w").close()
    assert _import(empty_zip, warehouse, tmp_path).files == []
    zero = tmp_path / "folder" / "Spotify Account Data" / "StreamingHistory_music_0.json"
    zero.parent.mkdir(parents=True)
    zero.write_bytes(b"")
    summary = _import(tmp_path / "folder", warehouse, tmp_path)
    (outcome,) = summary.files
    assert outcome.status == "unreadable" and outcome.message == "file is empty (0 bytes)"
    assert sum(raw_counts(warehouse).values()) == 0


def test_same_export_twice_changes_nothing(small_history, warehouse, tmp_path):
    export = small_history.exports[0].path
    first = _import(export, warehouse, tmp_path)
    snapshot = warehouse.execute("SELECT * FROM raw.extended_music_streams ORDER BY _file_path, _record_index").fetchall()
    again = _import(export, warehouse, tmp_path)
    assert again.already_loaded and not first.already_loaded
    assert warehouse.execute("SELECT * FROM raw.extended_music_streams ORDER BY _file_path, _record_index").fetchall() == snapshot
    assert warehouse.execute("SELECT count(*) FROM raw.export_imports").fetchall() == [(1,)]


def test_overlapping_exports_both_land_in_full(small_history, warehouse, tmp_path):
    for export in small_history.exports:
        _import(export.path, warehouse, tmp_path)
    assert raw_counts(warehouse) == {name: small_history.expected_raw_rows()[name] for name in raw_counts(warehouse)}


def test_personal_fields_never_reach_the_warehouse(small_history, warehouse, tmp_path):
    for export in small_history.exports:
        _import(export.path, warehouse, tmp_path)
    text_columns = warehouse.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'").fetchall()
    for schema, table, column in text_columns:
        assert "ip_addr" not in column and "user_agent" not in column and column != "username"
        leaked = warehouse.execute(
            f'SELECT count(*) FROM {schema}.{table} WHERE "{column}" LIKE \'%synthetic-listener%\' '
            f'OR "{column}" LIKE \'198.51.100.%\' OR "{column}" LIKE \'192.0.2.%\'').fetchall()[0][0]
        assert leaked == 0, f"{schema}.{table}.{column}"


def test_renamed_history_files_inside_a_folder_or_zip_are_read_by_their_keys(warehouse, tmp_path):
    """A real account-data folder held StreamingHistory0.json and its owner's StreamingHistory0_NEW.json: the
    second was once listed as "not history" and its 8,054 records lost without a word."""
    standard = [{"endTime": f"2024-01-01 10:{minute:02d}", "artistName": "A", "trackName": "T", "msPlayed": 200_000}
                for minute in range(40)]
    folder = tmp_path / "Spotify Account Data"
    write_json(folder / "StreamingHistory0.json", standard[:10])
    write_json(folder / "StreamingHistory0_NEW.json", standard[10:])
    write_json(folder / "Userdata.json", {"username": "someone"})
    summary = _import(folder, warehouse, tmp_path)
    assert {(f.path, f.role, f.status, f.accepted) for f in summary.files} == {
        ("StreamingHistory0.json", "standard", "parsed", 10), ("StreamingHistory0_NEW.json", "standard", "parsed", 30),
        ("Userdata.json", "not history", "ignored", 0)}

    archive_path = tmp_path / "my_spotify_data.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("MyData/endsong_0.json", json.dumps([OLD_EXTENDED_MUSIC]))
        archive.writestr("MyData/endsong_0 (1).json", json.dumps([dict(OLD_EXTENDED_MUSIC, ms_played=1)] * 2))
        archive.writestr("MyData/copy of endsong_1.json", json.dumps([dict(OLD_EXTENDED_MUSIC, ms_played=2)] * 3))
    summary = _import(archive_path, warehouse, tmp_path)
    assert [(f.path, f.status, f.accepted) for f in summary.files] == [
        ("MyData/endsong_0.json", "parsed", 1), ("MyData/endsong_0 (1).json", "parsed", 2),
        ("MyData/copy of endsong_1.json", "parsed", 3)]
    assert raw_counts(warehouse)["extended_music_streams"] == 6


def test_an_unrecognised_array_of_records_is_reported_not_silently_ignored(warehouse, tmp_path):
    folder = tmp_path / "export"
    write_json(folder / "MyData" / "endsong_0.json", [OLD_EXTENDED_MUSIC])
    write_json(folder / "MyData" / "my_plays.json", [{"when": "2024-01-01T10:00:00Z", "song": "T", "length": 3}])
    write_json(folder / "MyData" / "SearchQueries.json", [{"platform": "IPHONE", "searchQuery": "abba"}])
    summary = _import(folder, warehouse, tmp_path)
    unrecognised = _outcome(summary, "my_plays.json")
    assert unrecognised.status == "unrecognised" and "keys: length, song, when" in unrecognised.message
    assert summary.troubled_files() == [unrecognised]  # every_file_fully_read warns about exactly this file
    assert _outcome(summary, "SearchQueries.json").status == "ignored"
    assert warehouse.execute("SELECT files_read, files_ignored FROM raw.export_imports").fetchall() == [(1, 1)]
