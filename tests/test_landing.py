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
