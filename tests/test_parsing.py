"""Every file-name and key-set generation of both exports parses into the right raw table."""

from datetime import datetime

import pytest

from spotify_assets.lib.exports.members import Member
from spotify_assets.lib.exports.parsing import file_role, parse_member

OLD_EXTENDED_MUSIC = {
    "ts": "2019-03-31T01:30:12Z", "username": "someone", "platform": "Android OS 10 API 29 (Google, Pixel 3)",
    "ms_played": 215000, "conn_country": "DE", "ip_addr_decrypted": "198.51.100.7", "user_agent_decrypted": "unknown",
    "master_metadata_track_name": "Jóga", "master_metadata_album_artist_name": "Björk",
    "master_metadata_album_album_name": "Homogenic", "spotify_track_uri": "spotify:track:abc",
    "episode_name": None, "episode_show_name": None, "spotify_episode_uri": None, "reason_start": "trackdone",
    "reason_end": "trackdone", "shuffle": False, "skipped": None, "offline": False, "offline_timestamp": 1553995812,
    "incognito_mode": False,
}
NEW_EXTENDED_CHAPTER = {
    "ts": "2024-11-02T20:00:00Z", "platform": "ios", "ms_played": 1200000, "conn_country": "DE", "ip_addr": "192.0.2.1",
    "master_metadata_track_name": None, "master_metadata_album_artist_name": None, "master_metadata_album_album_name": None,
    "spotify_track_uri": None, "episode_name": None, "episode_show_name": None, "spotify_episode_uri": None,
    "audiobook_title": "A Book", "audiobook_uri": "spotify:audiobook:b", "audiobook_chapter_uri": "spotify:chapter:c",
    "audiobook_chapter_title": "Chapter 1", "reason_start": "clickrow", "reason_end": "endplay", "shuffle": False,
    "skipped": False, "offline": False, "offline_timestamp": 1730577600000, "incognito_mode": False,
}


def _member(path: str, records) -> Member:
    import json

    return Member(path, json.dumps(records).encode())


@pytest.mark.parametrize("path, role", [
    ("MyData/endsong.json", "extended"),
    ("MyData/endsong_0.json", "extended"),
    ("MyData/endvideo.json", "extended"),
    ("Spotify Extended Streaming History/Streaming_History_Audio_2013-2015_0.json", "extended"),
    ("anything/Streaming_History_Audio_2022_1.json", "extended"),
    ("Streaming_History_Video_2022-2024.json", "extended"),
    ("Spotify Account Data/StreamingHistory0.json", "standard"),
    ("StreamingHistory12.json", "standard"),
    ("Spotify Account Data/StreamingHistory_music_0.json", "standard"),
    ("Spotify Account Data/StreamingHistory_podcast_0.json", "standard"),
    ("Spotify Account Data/StreamingHistory_audiobook_0.json", "standard"),
    ("Spotify Account Data/Playlist1.json", None),
    ("Spotify Account Data/Userdata.json", None),
    ("Spotify Extended Streaming History/ReadMeFirst_ExtendedStreamingHistory.pdf", None),
    ("__MACOSX/MyData/._endsong_0.json", None),
])
def test_files_are_recognised_by_base_name(path, role):
    assert file_role(Member(path, b"[]"), single_file_export=False) == role


STANDARD_MUSIC = {"endTime": "2024-01-01 10:00", "artistName": "A", "trackName": "T", "msPlayed": 1}


def test_a_renamed_single_json_file_is_recognised_by_its_keys():
    extended = _member("my history.json", [OLD_EXTENDED_MUSIC])
    standard = _member("export.json", [STANDARD_MUSIC])
    assert file_role(extended, single_file_export=True) == "extended"
    assert file_role(standard, single_file_export=True) == "standard"
    assert file_role(_member("history", [STANDARD_MUSIC]), single_file_export=True) == "standard"  # no extension
    assert file_role(_member("notes.json", {"a": 1}), single_file_export=True) is None
    assert file_role(Member("notes.txt", b"shopping list"), single_file_export=True) is None


@pytest.mark.parametrize("path, records, role", [
    ("Spotify Account Data/StreamingHistory0_NEW.json", [STANDARD_MUSIC], "standard"),
    ("MyData/endsong_0 (1).json", [OLD_EXTENDED_MUSIC], "extended"),
    ("Spotify Extended Streaming History/copy of Streaming_History_Audio_2020.json", [OLD_EXTENDED_MUSIC], "extended"),
    ("export/history-backup.JSON", [NEW_EXTENDED_CHAPTER], "extended"),
    # A JSON array of records that is not history as Spotify writes it: reported, not silently dropped.
    ("MyData/plays.json", [{"when": "2024-01-01", "song": "x"}], "unrecognised"),
    # Spotify's own account-data files that hold other records are not history, and not worth a warning.
    ("Spotify Account Data/SearchQueries.json", [{"platform": "IPHONE", "searchTime": "2024", "searchQuery": "a"}], None),
    ("Spotify Account Data/Userdata.json", {"username": "x"}, None),
    ("Spotify Account Data/empty.json", [], None),
])
def test_any_json_member_whose_name_says_nothing_is_recognised_by_its_keys(path, records, role):
    assert file_role(_member(path, records), single_file_export=False) == role


def test_old_extended_key_set_keeps_personal_fields_out_and_types_values():
    parsed = parse_member(_member("MyData/endsong_0.json", [OLD_EXTENDED_MUSIC]), "extended")
    assert parsed.status == "parsed" and parsed.quarantined == []
    (row,) = parsed.rows["extended_music_streams"]
    assert row[0] == datetime(2019, 3, 31, 1, 30, 12)
    assert "Björk" in row and "spotify:track:abc" in row
    assert not {"someone", "198.51.100.7", "unknown"} & {str(v) for v in row}
    assert parsed.message is None  # personal fields are known, just not kept


def test_new_extended_key_set_routes_audiobooks_episodes_and_rows_without_content():
    episode = dict(NEW_EXTENDED_CHAPTER, audiobook_title=None, audiobook_uri=None, audiobook_chapter_uri=None,
                   audiobook_chapter_title=None, episode_name="Ep 1", episode_show_name="Show", spotify_episode_uri="spotify:episode:e")
    empty = dict(episode, episode_name=None, episode_show_name=None, spotify_episode_uri=None)
    parsed = parse_member(_member("Streaming_History_Audio_2024_3.json", [NEW_EXTENDED_CHAPTER, episode, empty]), "extended")
    assert len(parsed.rows["extended_audiobook_streams"]) == 1
    assert len(parsed.rows["extended_episode_streams"]) == 1
    assert parsed.without_content == 1
    assert "192.0.2.1" not in repr(parsed.rows)


def test_standard_generations_split_music_podcasts_and_audiobooks():
    records = [
        {"endTime": "2024-08-02 22:44", "artistName": "Artist", "trackName": "Song", "msPlayed": 118990},
        {"endTime": "2024-08-02 23:44", "podcastName": "Show", "episodeName": "Episode", "msPlayed": 5},
        {"endTime": "2024-08-03 01:00", "audiobookName": "Book", "authorName": "Author", "msPlayed": 7},
    ]
    parsed = parse_member(_member("StreamingHistory0.json", records), "standard")
    assert {name: len(rows) for name, rows in parsed.rows.items()} == {
        "standard_music_streams": 1, "standard_episode_streams": 1, "standard_audiobook_streams": 1}
    assert parsed.rows["standard_music_streams"][0][0] == datetime(2024, 8, 2, 22, 44)


@pytest.mark.parametrize("change, reason", [
    ({"ms_played": "abc"}, "field 'ms_played': expected an integer, got 'abc'"),
    ({"ms_played": None}, "required field 'ms_played' is null"),
    ({"ts": "yesterday"}, "field 'ts': 'yesterday' is not an ISO-8601 timestamp"),
    ({"skipped": "sometimes"}, "field 'skipped': expected true/false, got 'sometimes'"),
    ({"master_metadata_track_name": ["a", "list"]}, "field 'master_metadata_track_name': expected text, got list"),
])
def test_wrong_types_are_quarantined_with_field_and_reason(change, reason):
    bad = dict(OLD_EXTENDED_MUSIC, **change)
    parsed = parse_member(_member("endsong_0.json", [OLD_EXTENDED_MUSIC, bad, OLD_EXTENDED_MUSIC]), "extended")
    assert parsed.accepted == 2
    ((index, why, record_json),) = parsed.quarantined
    assert index == 1 and why == reason
    assert "198.51.100.7" not in record_json and "someone" not in record_json  # quarantine is in the warehouse


def test_missing_fields_and_non_objects_are_quarantined():
    missing_ts = {k: v for k, v in OLD_EXTENDED_MUSIC.items() if k != "ts"}
    parsed = parse_member(_member("endsong_0.json", [missing_ts, 42, OLD_EXTENDED_MUSIC]), "extended")
    assert [(i, r) for i, r, _ in parsed.quarantined] == [
        (0, "required field 'ts' is missing"), (1, "record is int, expected a JSON object")]
    standard = parse_member(_member("StreamingHistory_music_0.json", [{"endTime": "2024-01-01 00:00", "msPlayed": 3}]), "standard")
    assert standard.quarantined[0][1].startswith("missing fields")


def test_lenient_values_are_typed_not_rejected():
    lenient = dict(OLD_EXTENDED_MUSIC, ms_played="215000", shuffle="true", offline_timestamp=1553995812000.0,
                   master_metadata_track_name=1999, extra_new_field="x")
    parsed = parse_member(_member("endsong_0.json", [lenient]), "extended")
    assert parsed.quarantined == [] and parsed.accepted == 1
    assert "unknown fields ignored: extra_new_field" in parsed.message
