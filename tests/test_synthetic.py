"""The generator is deterministic and carries every feature the counting rules must handle."""

import json
import unicodedata
import zipfile
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from spotify_assets.lib.synthetic.exports import SyntheticHistory


def _files(export) -> dict[str, bytes]:
    if export.path.is_dir():
        return {p.relative_to(export.path).as_posix(): p.read_bytes() for p in export.path.rglob("*") if p.is_file()}
    with zipfile.ZipFile(export.path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_same_seed_same_bytes_other_seed_other_history(tmp_path):
    one = SyntheticHistory.generate(plays=1_000, seed=3)
    two = SyntheticHistory.generate(plays=1_000, seed=3)
    other = SyntheticHistory.generate(plays=1_000, seed=4)
    one.write_exports(tmp_path / "one")
    two.write_exports(tmp_path / "two")
    assert [e.path.name for e in one.exports] == [e.path.name for e in two.exports]
    for a, b in zip(one.exports, two.exports):
        assert _files(a) == _files(b)
    assert [p.ended_at for p in one.plays] != [p.ended_at for p in other.plays]


def test_sizes_and_limits():
    assert len(SyntheticHistory.generate(plays=1_000).plays) == 1_000
    assert len(SyntheticHistory.generate(plays=12_345, seed=1).plays) == 12_345
    with pytest.raises(ValueError):
        SyntheticHistory.generate(plays=10)


def test_history_has_every_feature(small_history):
    plays = small_history.plays
    kinds = Counter(p.kind for p in plays)
    assert {"music", "episode", "audiobook", "no_content"} <= set(kinds)
    music = [p for p in plays if p.kind == "music"]
    assert sum(p.ms_played < 30_000 for p in music) > 0.1 * len(music)  # skips
    assert any(a.item is b.item and a.kind == b.kind == "music" for a, b in zip(plays, plays[1:]))  # repeats
    assert any(a.ended_at.replace(microsecond=0) == b.ended_at.replace(microsecond=0) and a.item is not b.item
               for a, b in zip(music, music[1:]))  # two devices, one second
    assert any(not p.item.artist.isascii() for p in music)
    assert any(p.uri == p.item.single_uri for p in music)  # the same song as a single
    zone = ZoneInfo(small_history.listener_timezone)
    local = [p.ended_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone) for p in music]
    offsets = {moment.utcoffset() for moment in local}
    assert len(offsets) == 2  # both sides of DST
    assert any(m.month in (3, 10) and m.day >= 25 and 1 <= m.hour <= 3 for m in local)  # the night the clocks change


def test_exports_cover_both_generations_of_names_and_keys(small_history):
    names = {n.rsplit("/", 1)[-1] for e in small_history.exports for n in _files(e)}
    assert {"endsong_0.json", "endvideo.json", "StreamingHistory0.json", "StreamingHistory_music_0.json",
            "StreamingHistory_podcast_0.json", "StreamingHistory_audiobook_0.json", "Playlist1.json",
            "ReadMeFirst_ExtendedStreamingHistory.pdf"} <= names
    # Names that say nothing: a browser's second download, an owner's renamed copy (read by their keys).
    assert {"endsong_1 (1).json", "StreamingHistory0_NEW.json"} <= names
    assert any(n.startswith("Streaming_History_Audio_") for n in names)
    assert any(n.startswith("Streaming_History_Video_") for n in names)
    old = json.loads(_files(small_history.exports[0])["MyData/endsong_0.json"])
    new_files = _files(small_history.exports[1])
    new = json.loads(next(v for k, v in new_files.items() if "Streaming_History_Audio_" in k))
    assert {"username", "ip_addr_decrypted", "user_agent_decrypted"} <= old[0].keys()
    assert "ip_addr" in new[0] and "audiobook_title" in new[0] and "username" not in new[0]
    standard = json.loads(_files(small_history.exports[2])["Spotify Account Data/StreamingHistory_music_0.json"])
    assert any(unicodedata.normalize("NFC", r["artistName"]) != r["artistName"] for r in standard)  # NFD spellings


def test_exports_overlap_like_real_ones(small_history):
    sources = Counter("+".join(sorted(small_history.sources_of(p))) for p in small_history.plays if p.kind == "music")
    assert sources["extended+standard"] > 0 and sources["standard"] > 0 and sources["extended"] > 0
    assert sources[""] == 0  # every true play is in at least one export


def test_ground_truth_file_has_every_play_once(small_history, tmp_path):
    import csv
    import gzip

    path = small_history.write_ground_truth(tmp_path / "truth.csv.gz")
    with gzip.open(path, "rt") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(small_history.plays)
    assert Counter(r["kind"] for r in rows) == Counter(p.kind for p in small_history.plays)


def test_exports_carry_glitch_copies_repeat_one_bursts_and_podcasts_among_songs(small_history):
    extended = [json.loads(content) for export in small_history.exports[:2]
                for name, content in _files(export).items() if name.endswith(".json")]
    assert any(a == b for records in extended for a, b in zip(records, records[1:]))  # a record twice in a row
    bursts = Counter((r["endTime"], r["artistName"], r["trackName"], r["msPlayed"])
                     for name, content in _files(small_history.exports[2]).items() if "music" in name
                     for r in json.loads(content))
    assert max(bursts.values()) >= 2  # identical rows of one minute: repeat-one plays, not copies
    legacy = _files(small_history.exports[3])
    shows = {e.item.show for e in small_history.plays if e.kind == "episode"}
    rows = [r for name in ("StreamingHistory0.json", "StreamingHistory0_NEW.json")
            for r in json.loads(legacy[f"Spotify Account Data/{name}"])]
    assert any(r["artistName"] in shows for r in rows)  # podcast episodes among the songs
    first, second = (json.loads(legacy[f"Spotify Account Data/{n}"]) for n in ("StreamingHistory0.json", "StreamingHistory0_NEW.json"))
    assert first[-1]["endTime"] > second[0]["endTime"]  # the renamed copy overlaps the original


def test_pauses_on_the_session_rule_edge_are_planted_and_split_as_the_rule_says(tmp_path):
    """Groups of four plays whose pauses are exactly 30 minutes (one session), 30:01 (a new one) and 29:59 (the same):
    the oracle, and through it the demo's comparison, sees every edge at whole minutes, as the account data would."""
    from datetime import timedelta

    from spotify_assets.lib.synthetic.oracle import Oracle

    history = SyntheticHistory.generate(plays=6_000, seed=9)
    history.write_exports(tmp_path)
    oracle = Oracle(history, "Europe/Berlin")
    pauses = Counter()
    session_of = {}
    for number, session in enumerate(oracle.sessions()):
        for play in session:
            session_of[id(play)] = number
    ordered = sorted(oracle.plays, key=lambda play: play.played_at)
    for previous, play in zip(ordered, ordered[1:]):
        pause = play.played_at - timedelta(milliseconds=play.ms_played) - previous.played_at
        if pause in (timedelta(minutes=30), timedelta(minutes=30, seconds=1), timedelta(minutes=29, seconds=59)):
            pauses[pause] += 1
            assert (session_of[id(play)] == session_of[id(previous)]) == (pause <= timedelta(minutes=30))
    assert pauses[timedelta(minutes=30)] >= 5 and pauses[timedelta(minutes=30, seconds=1)] >= 5 \
        and pauses[timedelta(minutes=29, seconds=59)] >= 5
    # What the other section 9 figures need: streaks across a month's and a year's end, artists discovered late,
    # sessions across local midnight, and skips known only by their reason (no flag, a button before 30 s).
    streaks = oracle.streaks()
    assert any(start.month != end.month for start, end, *_ in streaks)
    assert any(start.year != end.year for start, end, *_ in streaks)
    last = max(p.local_date for p in oracle.plays)
    assert sum(last - first <= timedelta(days=90) for first in oracle.first_streams("artist_key").values()) >= 3
    assert any(oracle._local_date(row[0] if not isinstance(row[0], frozenset) else min(row[0])) !=
               oracle._local_date(row[1]) for row in oracle.session_rows())
    flagless = [play for export in history.exports for play in history.plays
                if id(play) in export.skip_flag_missing and play.reason_end in ("fwdbtn", "backbtn")
                and play.ms_played < 30_000]
    assert flagless
