"""Bad input gets a clear error naming the file (and record) and loses nothing else."""

import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from conftest import expected_raw_rows, raw_counts, write_json
from test_parsing import OLD_EXTENDED_MUSIC

from spotify_assets.lib.exports.importing import import_export
from spotify_assets.lib.exports.landing import receive_export


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


def test_a_json_array_without_its_closing_bracket_says_it_was_cut_short(warehouse, tmp_path):
    """Every record complete, the closing `]` missing: reported as parsed, with no warning."""
    path = tmp_path / "endsong_0.json"
    path.write_text(json.dumps([OLD_EXTENDED_MUSIC] * 5)[:-1])
    (outcome,) = _import(path, warehouse, tmp_path).files
    assert outcome.status == "partial" and outcome.accepted == 5
    assert outcome.message.startswith("cut short: the array of records has no closing ']'")


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
    assert raw_counts(warehouse) == {name: expected_raw_rows(small_history).get(name, 0) for name in raw_counts(warehouse)}


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


def _zip_with(path: Path, members: dict[str, bytes], patch=None) -> Path:
    """A zip of stored members; `patch(name, flags, method, name_bytes)` may change each one's header fields, in both
    the local header and the central directory, as a hostile or exotic archiver writes them."""
    import struct

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    if patch is None:
        return path
    data = bytearray(path.read_bytes())
    for signature, flags_at, method_at, name_length_at, name_at in ((b"PK\x03\x04", 6, 8, 26, 30),
                                                                     (b"PK\x01\x02", 8, 10, 28, 46)):
        position = data.find(signature)
        while position >= 0:
            name_length = struct.unpack_from("<H", data, position + name_length_at)[0]
            name = bytes(data[position + name_at: position + name_at + name_length])
            flags, method = struct.unpack_from("<HH", data, position + flags_at)
            flags, method, new_name = patch(name, flags, method, name)
            struct.pack_into("<HH", data, position + flags_at, flags, method)
            data[position + name_at: position + name_at + name_length] = new_name
            position = data.find(signature, position + 4)
    path.write_bytes(bytes(data))
    return path


def test_one_bad_value_quarantines_its_record_and_never_sinks_the_export(warehouse, tmp_path):
    """Each of these once aborted the whole export with a 40-line traceback, and the raw tables stayed empty."""
    hostile = [{"ms_played": 10**19}, {"ms_played": 1e300}, {"ms_played": "--5"}, {"ms_played": "²"},
               {"ms_played": -1}, {"ms_played": 25 * 3600 * 1000}, {"ts": "0001-01-01T00:30:00+01:00"},
               {"master_metadata_track_name": "\udc80"}]
    records = [OLD_EXTENDED_MUSIC] + [dict(OLD_EXTENDED_MUSIC, **change) for change in hostile] + [OLD_EXTENDED_MUSIC]
    extended = json.dumps(records).encode()
    # One byte that is not UTF-8 inside a record, and one record that is not valid JSON, between good ones.
    good = json.dumps(dict(OLD_EXTENDED_MUSIC, ts="2019-04-01T10:00:00Z"))
    broken = (b"[" + good.encode() + b",\n" + good.encode().replace(b"Homogenic", b"Homo\xffgenic") + b",\n"
              + b'{"ts": "2019-04-01T11:00:00Z", "ms_played": 5,,},\n' + good.replace("10:00", "12:00").encode() + b"]")
    standard = json.dumps([{"endTime": "2024-01-01 10:00+05:00", "artistName": "A", "trackName": "T", "msPlayed": 1000},
                           {"endTime": "2024-01-01 10:00Z", "artistName": "A", "trackName": "T", "msPlayed": 2000},
                           {"endTime": "2024-01-01 10:00", "artistName": "A", "trackName": "T", "msPlayed": -3}]).encode()
    summary = _import(_zip_with(tmp_path / "bad.zip", {"MyData/endsong_0.json": extended, "MyData/endsong_1.json": broken,
                                                        "StreamingHistory0.json": standard}), warehouse, tmp_path)
    first, second, third = summary.files
    assert (first.accepted, first.quarantined) == (2, len(hostile))
    reasons = [reason for (reason,) in warehouse.execute(
        "SELECT reason FROM raw.quarantined_records WHERE file_path = 'MyData/endsong_0.json' ORDER BY record_index").fetchall()]
    assert reasons[0].startswith("field 'ms_played': 10000000000000000000 is outside 0..86,400,000")
    assert "not valid Unicode text" in reasons[-1] and "out of range" in reasons[-2]
    assert (second.accepted, second.quarantined) == (2, 2)
    assert "not UTF-8 at byte" in second.message and "1 broken records quarantined" in second.message
    assert (third.accepted, third.quarantined) == (2, 1)
    assert warehouse.execute('SELECT "endTime" FROM raw.standard_music_streams ORDER BY "msPlayed"').fetchall() == [
        (datetime(2024, 1, 1, 5, 0),), (datetime(2024, 1, 1, 10, 0),)]  # +05:00 and Z, in UTC


def test_zip_members_that_cannot_be_read_are_named_and_the_rest_lands(warehouse, tmp_path):
    members = {"MyData/endsong_0.json": json.dumps([OLD_EXTENDED_MUSIC]).encode(),
               "MyData/endsong_1.json": json.dumps([OLD_EXTENDED_MUSIC]).encode(),
               "MyData/endsong_2.json": json.dumps([OLD_EXTENDED_MUSIC]).encode(),
               "MyData/endsong_\u00e9.json": json.dumps([OLD_EXTENDED_MUSIC]).encode()}

    def exotic(name, flags, method, raw_name):
        if name.endswith(b"endsong_1.json"):
            return flags | 0x1, method, raw_name  # encrypted
        if name.endswith(b"endsong_2.json"):
            return flags, 98, raw_name  # PPMd, which Python's zipfile cannot read
        if b"\xc3\xa9" in name:
            return flags | 0x800, method, raw_name.replace(b"\xc3\xa9", b"\xff\xfe")  # a name that is not UTF-8
        return flags, method, raw_name

    summary = _import(_zip_with(tmp_path / "exotic.zip", members, exotic), warehouse, tmp_path)
    by_name = {f.path.rsplit("/", 1)[-1]: f for f in summary.files}
    assert by_name["endsong_0.json"].accepted == 1
    assert by_name["endsong_1.json"].status == "unreadable" and "encrypted" in by_name["endsong_1.json"].message
    assert by_name["endsong_2.json"].status == "unreadable" and "method 98" in by_name["endsong_2.json"].message
    assert by_name["endsong_\ufffd\ufffd.json"].accepted == 1  # read, its name as well as it decodes
    assert raw_counts(warehouse)["extended_music_streams"] == 2


def test_two_members_with_one_name_both_land_apart(warehouse, tmp_path):
    """Two members called MyData/endsong_0.json gave rows the same record_id: the uniqueness test failed, 77 models
    were skipped, and every later import and build failed."""
    archive_path = tmp_path / "twice.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("MyData/endsong_0.json", json.dumps([OLD_EXTENDED_MUSIC] * 2))
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("MyData/endsong_0.json", json.dumps([dict(OLD_EXTENDED_MUSIC, ms_played=1)] * 3))
    summary = _import(archive_path, warehouse, tmp_path)
    assert [(f.path, f.accepted) for f in summary.files] == [
        ("MyData/endsong_0.json", 2), ("MyData/endsong_0 (2nd member of that name).json", 3)]
    assert warehouse.execute("SELECT count(*), count(DISTINCT (_file_path, _record_index)) "
                             "FROM raw.extended_music_streams").fetchall() == [(5, 5)]


def test_a_zip_inside_the_export_is_read(warehouse, tmp_path):
    inner = _zip_with(tmp_path / "inner.zip", {"Spotify Extended Streaming History/endsong_0.json":
                                               json.dumps([OLD_EXTENDED_MUSIC] * 4).encode()})
    outer = _zip_with(tmp_path / "my_spotify_data.zip", {"my_spotify_data/Spotify Extended Streaming History.zip":
                                                        inner.read_bytes()})
    summary = _import(outer, warehouse, tmp_path)
    assert [(f.path, f.accepted) for f in summary.files] == [
        ("my_spotify_data/Spotify Extended Streaming History.zip/Spotify Extended Streaming History/endsong_0.json", 4)]


def test_a_folder_export_never_follows_links_out_of_itself(warehouse, tmp_path):
    outside = write_json(tmp_path / "elsewhere" / "endsong_5.json", [OLD_EXTENDED_MUSIC] * 7)
    folder = tmp_path / "export"
    write_json(folder / "MyData" / "endsong_0.json", [OLD_EXTENDED_MUSIC])
    (folder / "MyData" / "endsong_1.json").symlink_to("/dev/zero")  # once wrote 9.2 GB into landing in 20 s
    (folder / "MyData" / "endsong_2.json").symlink_to(outside)
    (folder / "linked").symlink_to(outside.parent, target_is_directory=True)
    landed = receive_export(folder, tmp_path / "landing")
    assert sum(f.stat().st_size for f in landed.directory.rglob("*") if f.is_file()) < 100_000
    summary = import_export(warehouse, landed)
    assert raw_counts(warehouse)["extended_music_streams"] == 1
    assert sorted((f.path, f.status) for f in summary.files if f.path != "MyData/endsong_0.json") == [
        ("MyData/endsong_1.json", "ignored"), ("MyData/endsong_2.json", "ignored"), ("linked", "ignored")]


def test_a_member_far_larger_than_any_history_file_is_not_read_into_memory(warehouse, tmp_path):
    """A 2 MB zip of zeros once took 2 GB of memory, even where the member was ignored."""
    import resource

    from spotify_assets.lib.exports.members import MAX_MEMBER_BYTES

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in ("MyData/endsong_0.json", "MyData/photo.bin"):
            with archive.open(name, "w", force_zip64=True) as member:
                for _ in range(2 * MAX_MEMBER_BYTES // (1 << 20)):
                    member.write(bytes(1 << 20))
        archive.writestr("MyData/endsong_1.json", json.dumps([OLD_EXTENDED_MUSIC]))
    assert bomb.stat().st_size < 2_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    summary = _import(bomb, warehouse, tmp_path)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 2 * MAX_MEMBER_BYTES / 2**20  # at most the cap once (peak RSS in KB on Linux)
    by_name = {f.path: f for f in summary.files}
    zeros = by_name["MyData/endsong_0.json"]  # streamed, as any large history file is, and found to be no JSON array
    assert zeros.status == "unreadable" and zeros.message.startswith("not a JSON array")
    assert by_name["MyData/photo.bin"].status == "ignored" and by_name["MyData/endsong_1.json"].accepted == 1


def test_a_member_with_a_bad_crc_is_named_and_every_intact_member_lands(warehouse, tmp_path):
    """One member whose CRC did not match (`zipfile.BadZipFile: Bad CRC-32`) failed the whole export, intact members
    too, and then every later import retried it first."""
    good = json.dumps([OLD_EXTENDED_MUSIC | {"ts": f"2019-03-31T01:{minute:02d}:12Z"} for minute in range(10)])
    bad = json.dumps([OLD_EXTENDED_MUSIC | {"ts": f"2019-04-01T01:{minute:02d}:12Z", "master_metadata_track_name": "X"}
                      for minute in range(10)])
    path = _zip_with(tmp_path / "my_spotify_data.zip", {"MyData/endsong_0.json": good.encode(),
                                                         "MyData/endsong_1.json": bad.encode()})
    data = bytearray(path.read_bytes())
    damaged = data.find(b'"X"')
    data[damaged + 1] = ord("Y")  # the stored bytes change, the CRC in the headers does not
    path.write_bytes(bytes(data))
    summary = _import(path, warehouse, tmp_path)
    assert raw_counts(warehouse)["extended_music_streams"] == 10
    outcome = _outcome(summary, "endsong_1.json")
    assert outcome.status == "unreadable" and "Bad CRC-32" in outcome.message
    assert _outcome(summary, "endsong_0.json").status == "parsed"


def _extended_records(count: int):
    for index in range(count):
        yield OLD_EXTENDED_MUSIC | {"ts": f"20{19 + index % 5}-0{1 + index % 9}-1{index % 10}T0{index % 10}:"
                                          f"{index % 60:02d}:{index % 59:02d}Z", "ms_played": 1000 + index,
                                    "master_metadata_track_name": f"Track {index} }},{{\"ts\": 1"}


def test_a_history_file_too_large_to_hold_is_streamed_and_lands_as_if_read_whole(warehouse, tmp_path, monkeypatch):
    """A single large history file was refused whole (it exceeded the cap that keeps memory bounded). Streamed in
    pieces now, it lands exactly as the same file read whole: the same rows, record indexes, quarantine and counts,
    with broken records, nested values and a track name holding `},{` among its records."""
    import duckdb

    import spotify_assets.lib.exports.importing as importing
    import spotify_assets.lib.exports.pieces as pieces

    records = [json.dumps(record) for record in _extended_records(3000)]
    records[700] = json.dumps(json.loads(records[700]) | {"master_metadata_track_name": "Track 700"}).replace(
        '"ms_played": 1700', '"ms_played": 1700 oops')  # not JSON
    records[1500] = records[1500].replace('"ms_played": 2500', '"ms_played": -5')  # to quarantine
    records[2200] = records[2200].replace('"offline": false', '"offline": {"nested": [1, 2]}')  # not flat
    text = "[\n" + ",\n".join(records) + "\n]"
    path = tmp_path / "endsong_0.json"
    path.write_text(text)

    def landed(folder, connection):
        summary = import_export(connection, receive_export(path, tmp_path / folder))
        rows = connection.execute("SELECT * EXCLUDE (_loaded_at, _export_hash) FROM raw.extended_music_streams "
                                  "ORDER BY _record_index").fetchall()
        quarantine = connection.execute("SELECT record_index, reason FROM raw.quarantined_records ORDER BY 1").fetchall()
        indexes = [index for (index,) in connection.execute(
            "SELECT _record_index FROM raw.extended_music_streams ORDER BY 1").fetchall()]
        return summary.files, rows, quarantine, indexes

    whole = landed("whole", warehouse)
    monkeypatch.setattr(importing, "STREAM_ABOVE_BYTES", 64 * 1024)
    monkeypatch.setattr(pieces, "PIECE_BYTES", 50 * 1024)
    monkeypatch.setattr(pieces, "CHUNK_BYTES", 16 * 1024)
    with duckdb.connect(str(tmp_path / "streamed.duckdb")) as connection:
        streamed = landed("streamed", connection)
    assert len(text) > 20 * pieces.PIECE_BYTES  # many pieces
    (file_whole,), (file_streamed,) = whole[0], streamed[0]
    assert (file_streamed.accepted, file_streamed.quarantined) == (file_whole.accepted, file_whole.quarantined) \
        == (2997, 3)
    assert streamed[1] == whole[1] and streamed[2] == whole[2]
    assert [index for index, _ in streamed[2]] == [700, 1500, 2200]
    assert streamed[3] == [index for index in range(3000) if index not in (700, 1500, 2200)]


@pytest.mark.slow
def test_a_history_file_larger_than_the_memory_cap_lands_whole_in_bounded_memory(tmp_path):
    """A 300 MB single history file (458,622 records) was refused whole: now any size is read, and memory stays
    bounded. Here a file of more than MAX_MEMBER_BYTES, imported in a process of its own whose peak memory is read."""
    import subprocess
    import sys

    from spotify_assets.lib.exports.members import MAX_MEMBER_BYTES

    path = tmp_path / "Streaming_History_Audio_all.json"
    count = 0
    with path.open("w") as handle:
        handle.write("[")
        while handle.tell() < MAX_MEMBER_BYTES + 8 * 2**20:
            batch = [json.dumps(record) for record in _extended_records(5000)]
            handle.write(("," if count else "") + ",".join(batch))
            count += len(batch)
        handle.write("]")
    probe = subprocess.run([sys.executable, "-c", f"""
import resource, duckdb
from spotify_assets.lib.exports.importing import import_export
from spotify_assets.lib.exports.landing import receive_export
connection = duckdb.connect({str(tmp_path / "warehouse.duckdb")!r})
from pathlib import Path
summary = import_export(connection, receive_export(Path({str(path)!r}), Path({str(tmp_path / "landing")!r})))
(outcome,) = summary.files
print(outcome.status, outcome.accepted, outcome.quarantined, outcome.without_content)
print(connection.execute("SELECT count(DISTINCT _record_index), max(_record_index) FROM raw.extended_music_streams").fetchall()[0])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""], capture_output=True, text=True, timeout=900)
    assert probe.returncode == 0, probe.stderr[-3000:]
    status, distinct, peak_mb = probe.stdout.splitlines()
    assert status == f"parsed {count} 0 0"
    assert distinct == f"({count}, {count - 1})"
    assert int(peak_mb) < 1500, f"peak memory {peak_mb} MB for a {path.stat().st_size // 2**20} MB file"
