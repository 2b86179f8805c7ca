"""Landing keeps the original bytes under their content hash, once."""

import json

from conftest import write_json

from spotify_assets.lib.exports.landing import (
    content_hash,
    is_candidate,
    landed_exports,
    receive_export,
)


def test_a_zip_lands_byte_for_byte_under_its_sha256(small_history, tmp_path):
    import hashlib

    export = small_history.exports[0].path
    landed = receive_export(export, tmp_path / "landing")
    assert landed.export_hash == hashlib.sha256(export.read_bytes()).hexdigest()
    assert landed.payload.read_bytes() == export.read_bytes()
    receipt = json.loads((landed.directory / "receipt.json").read_text())
    assert receipt["name"] == export.name and receipt["kind"] == "zip"


def test_receiving_twice_or_under_another_name_lands_once(small_history, tmp_path):
    export = small_history.exports[0].path
    renamed = tmp_path / "renamed.zip"
    renamed.write_bytes(export.read_bytes())
    first = receive_export(export, tmp_path / "landing")
    second = receive_export(renamed, tmp_path / "landing")
    assert first.export_hash == second.export_hash
    assert [e.export_hash for e in landed_exports(tmp_path / "landing")] == [first.export_hash]
    assert not [p for p in (tmp_path / "landing").iterdir() if p.name.startswith(".incoming")]


def test_folder_hash_covers_names_and_contents(tmp_path):
    write_json(tmp_path / "a" / "Spotify Account Data" / "StreamingHistory0.json", [])
    write_json(tmp_path / "b" / "Spotify Account Data" / "StreamingHistory0.json", [])
    write_json(tmp_path / "c" / "Spotify Account Data" / "StreamingHistory1.json", [])
    assert content_hash(tmp_path / "a") == content_hash(tmp_path / "b") != content_hash(tmp_path / "c")
    landed = receive_export(tmp_path / "a", tmp_path / "landing")
    assert (landed.payload / "Spotify Account Data" / "StreamingHistory0.json").read_text() == "[]"
    assert landed.kind == "folder"


def test_inbox_candidates(tmp_path):
    for name in ["my_spotify_data.zip", "endsong_0.json", ".DS_Store", "x.zip.part", "notes.txt"]:
        (tmp_path / name).write_text("x")
    (tmp_path / "Spotify Account Data").mkdir()
    assert sorted(p.name for p in tmp_path.iterdir() if is_candidate(p)) == [
        "Spotify Account Data", "endsong_0.json", "my_spotify_data.zip"]


def test_a_removal_stopped_half_way_is_finished_by_the_next(small_history, warehouse, tmp_path):
    """`exports remove` takes the export out of landing first; killed before its rows were gone, the export was
    neither landed nor removed. The next removal or build finishes it: rows and folder gone, nothing else touched."""
    from conftest import raw_counts

    from spotify_assets.lib.exports.importing import import_export
    from spotify_assets.lib.exports.landing import removals_under_way, start_removal
    from spotify_assets.lib.exports.removal import finish_removals

    landing = tmp_path / "landing"
    kept, removed = (receive_export(export.path, landing) for export in small_history.exports[:2])
    for landed in (kept, removed):
        import_export(warehouse, landed)
    start_removal(removed)  # ... and then the process was killed
    assert [landed.export_hash for landed in landed_exports(landing)] == [kept.export_hash]
    assert [landed.export_hash for landed in removals_under_way(landing)] == [removed.export_hash]
    assert finish_removals(warehouse, landing) == [removed.name]
    assert raw_counts(warehouse) == {name: small_history.exports[0].raw_rows.get(name, 0)
                                     for name in raw_counts(warehouse)}
    assert warehouse.execute("SELECT DISTINCT export_hash FROM raw.export_files").fetchall() == [(kept.export_hash,)]
    assert removals_under_way(landing) == [] and finish_removals(warehouse, landing) == []
