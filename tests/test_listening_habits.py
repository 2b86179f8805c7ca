"""How you listen (counting rules, section 9), on a few hand-written records whose figures are worked out here by
hand: what a skip is and where it is unknown, skip rates beside their denominators, and the most skipped tracks."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli_environment

from spotify_assets.lib.publishing.publish import connect_published

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).with_name("spotify-assets"))


def _extended(ts: str, track: str, ms: int, skipped, reason_end: str, **more) -> dict:
    return {"ts": ts, "platform": "android", "ms_played": ms, "conn_country": "DE",
            "master_metadata_track_name": track, "master_metadata_album_artist_name": "Skipper",
            "master_metadata_album_album_name": "Album", "spotify_track_uri": f"spotify:track:{track:0>22}",
            "episode_name": None, "episode_show_name": None, "spotify_episode_uri": None,
            "reason_start": more.get("reason_start", "trackdone"), "reason_end": reason_end,
            "shuffle": more.get("shuffle", False), "skipped": skipped, "offline": False, "offline_timestamp": None,
            "incognito_mode": False}


@pytest.fixture(scope="module")
def marts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("habits")
    records = [
        _extended("2024-03-04T10:00:10Z", "A", 10_000, None, "fwdbtn"),  # no flag, forward button before 30 s: skip
        _extended("2024-03-04T10:01:00Z", "A", 40_000, None, "fwdbtn"),  # no flag, button after 30 s: no skip
        _extended("2024-03-04T10:02:00Z", "A", 10_000, None, "trackdone", shuffle=True),  # short, ended: no skip
        _extended("2024-03-04T10:06:00Z", "A", 200_000, True, "trackdone"),  # flagged: skip
        _extended("2024-03-04T10:09:00Z", "A", 150_000, False, "backbtn", reason_start="clickrow"),  # 150 s: no skip
        _extended("2024-03-05T22:00:00Z", "B", 5_000, False, "backbtn"),  # flag false, back button before 30 s: skip
        _extended("2024-03-05T22:05:00Z", "B", 180_000, False, "trackdone"),
    ]
    # A play an older export holds twice (a glitch copy) without its skip flag, and a newer one once with it: one play,
    # counted from the file with more copies, and a skip all the same.
    unflagged = _extended("2024-03-04T11:00:00Z", "A", 60_000, None, "trackdone")
    (folder / "endsong_0.json").write_text(json.dumps(records + [unflagged, unflagged]))
    (folder / "newer").mkdir()
    (folder / "newer" / "endsong_0.json").write_text(json.dumps([unflagged | {"skipped": True}]))
    # The account data knows nothing of skips: its play's skip is unknown, and it is in no denominator.
    (folder / "StreamingHistory_music_0.json").write_text(json.dumps([
        {"endTime": "2024-03-06 08:00", "artistName": "Skipper", "trackName": "C", "msPlayed": 12_000}]))
    data = folder / "data"
    completed = subprocess.run([CLI, "import", *(str(folder / name) for name in (
        "endsong_0.json", "newer/endsong_0.json", "StreamingHistory_music_0.json"))], env=cli_environment(data),
        capture_output=True, text=True, timeout=600)  # three exports, one build
    assert completed.returncode == 0, completed.stderr
    connection = connect_published(data / "marts.duckdb")
    yield connection
    connection.close()


def test_a_skip_is_the_flag_or_a_button_before_30_s_and_unknown_without_an_extended_record(marts):
    rows = marts.execute("SELECT track_name, ms_played, is_skip FROM fct_plays ORDER BY played_at_utc").fetchall()
    assert rows == [("A", 10_000, True), ("A", 40_000, False), ("A", 10_000, False), ("A", 200_000, True),
                    ("A", 150_000, False), ("A", 60_000, True), ("B", 5_000, True), ("B", 180_000, False),
                    ("C", 12_000, None)]


def test_skip_counts_stand_beside_the_plays_whose_skip_is_known(marts):
    assert marts.execute("SELECT artist_name, plays_all, plays_known, skips FROM dim_artist").fetchall() == \
        [("Skipper", 9, 8, 4)]
    tracks = marts.execute("SELECT track_name, plays_known, skips FROM dim_track ORDER BY track_name").fetchall()
    assert tracks == [("A", 6, 3), ("B", 2, 1), ("C", 0, 0)]
    cells = marts.execute("SELECT iso_weekday, local_hour, plays_known, skips FROM mart_skips_weekday_hour "
                          "WHERE plays_known > 0 ORDER BY 1, 2").fetchall()
    assert cells == [(1, 10, 5, 2), (1, 11, 1, 1), (2, 22, 2, 1)]  # UTC: Monday 10:00 and 11:00, Tuesday 22:00
    assert marts.execute("SELECT count(*), sum(plays_known), sum(skips) FROM mart_skips_weekday_hour").fetchall() == \
        [(168, 8, 4)]
    by = {(d, v): (k, s) for d, v, k, s in marts.execute("SELECT * FROM mart_skips_by").fetchall()}
    assert by == {("platform", "android"): (8, 4), ("shuffle", "false"): (7, 4), ("shuffle", "true"): (1, 0),
                  ("reason_start", "trackdone"): (7, 4), ("reason_start", "clickrow"): (1, 0),
                  ("offline", "false"): (8, 4)}


def test_the_most_skipped_tracks_rank_by_rate_then_skips_among_tracks_played_often_enough(marts):
    query = "SELECT track_name, plays_known, skips, skip_rate FROM most_skipped_tracks('2024-03-01', '2024-03-31'{})"
    # The same rate: more skips first.
    assert marts.execute(query.format(", min_plays := 2")).fetchall() == [("A", 6, 3, 0.5), ("B", 2, 1, 0.5)]
    assert marts.execute(query.format("")).fetchall() == [("A", 6, 3, 0.5)]  # at least 5 known plays by default
    assert marts.execute(query.format(", min_plays := 1, n := 1")).fetchall() == [("A", 6, 3, 0.5)]
    assert marts.execute(query.format(", min_plays := 7")).fetchall() == []
    assert marts.execute("SELECT track_name FROM most_skipped_tracks('2024-03-05', '2024-03-05', min_plays := 1)"
                         ).fetchall() == [("B",)]  # a range of one day


def _import(folder: Path, data: Path, files: dict[str, list[dict]]) -> None:
    """The files, each an export, imported by one command (one build)."""
    for name, records in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(records))
    completed = subprocess.run([CLI, "import", *(str(folder / name) for name in files)], capture_output=True, text=True,
                               timeout=600, env=cli_environment(data) | {"SPOTIFY_TIMEZONE": "Europe/Berlin"})
    assert completed.returncode == 0, completed.stderr


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    """Plays in Berlin whose sessions are worked out by hand (the starts are end minus ms_played), imported in two
    steps: the second brings a play that closes the gap between two sessions of the first."""
    folder = tmp_path_factory.mktemp("sessions")
    data = folder / "data"
    _import(folder, data, {"endsong_0.json": [
        _extended("2024-03-04T22:50:00Z", "P1", 180_000, False, "trackdone"),  # starts 22:47 UTC, 23:47 in Berlin
        _extended("2024-03-04T23:23:00Z", "P2", 180_000, False, "trackdone"),  # starts exactly 30 min after P1 ended
        _extended("2024-03-04T23:56:01Z", "P3", 180_000, False, "trackdone"),  # 30 min 1 s after P2: a new session
        # Berlin's clocks jump from 02:00 to 03:00: 21 min 40 s apart in UTC, more than an hour on the wall clock
        _extended("2024-03-31T00:55:00Z", "P5", 200_000, False, "trackdone"),
        _extended("2024-03-31T01:20:00Z", "P6", 200_000, False, "trackdone"),
        _extended("2024-04-02T10:00:00Z", "P7", 180_000, False, "trackdone"),
        _extended("2024-04-02T11:00:00Z", "P8", 180_000, False, "trackdone"),  # 57 min after P7: a session of its own
    ],
        # The account data, to the minute: 12 minutes after P3, the same session across the two sources.
        "StreamingHistory_music_0.json": [
            {"endTime": "2024-03-05 00:10", "artistName": "Skipper", "trackName": "P4", "msPlayed": 120_000}]})
    connection = connect_published(data / "marts.duckdb")
    before = connection.execute("SELECT count(*) FROM fct_sessions").fetchall()[0][0]
    connection.close()
    _import(folder, data, {"later/endsong_1.json": [_extended("2024-04-02T10:30:00Z", "P9", 180_000, False, "trackdone")]})
    connection = connect_published(data / "marts.duckdb")
    yield before, connection, data
    connection.close()


def test_sessions_split_on_gaps_over_30_minutes_across_midnight_dst_sources_and_a_later_import(sessions):
    before, marts, _ = sessions
    assert before == 5  # P7 and P8 apart, until P9 arrived
    rows = marts.execute("SELECT started_at_utc::VARCHAR, ended_at_utc::VARCHAR, local_date::VARCHAR, plays, streams, "
                         "minutes, distinct_artists, skips, plays_known FROM fct_sessions ORDER BY started_at_utc"
                         ).fetchall()
    assert rows == [
        ("2024-03-04 22:47:00", "2024-03-04 23:23:00", "2024-03-04", 2, 2, 6.0, 1, 0, 2),  # across local midnight
        ("2024-03-04 23:53:01", "2024-03-05 00:10:00", "2024-03-05", 2, 2, 5.0, 1, 0, 1),  # two sources
        ("2024-03-31 00:51:40", "2024-03-31 01:20:00", "2024-03-31", 2, 2, 400_000 / 60_000, 1, 0, 2),  # DST night
        ("2024-04-02 09:57:00", "2024-04-02 11:00:00", "2024-04-02", 3, 3, 9.0, 1, 0, 3),  # merged by P9
    ]
    plays = dict(marts.execute("SELECT track_name, session_id FROM fct_plays").fetchall())
    first_plays = dict(marts.execute("SELECT track_name, play_id FROM fct_plays").fetchall())
    assert plays["P2"] == plays["P1"] == first_plays["P1"] and plays["P4"] == plays["P3"] == first_plays["P3"]
    assert plays["P8"] == plays["P9"] == plays["P7"] == first_plays["P7"]  # a session's id: its first play's
    assert marts.execute("SELECT month::VARCHAR, sessions, plays, longest_session_minutes, median_session_minutes, "
                         "median_session_plays FROM mart_sessions_monthly").fetchall() == [
        ("2024-03-01", 3, 6, 400_000 / 60_000, 6.0, 2.0), ("2024-04-01", 1, 3, 9.0, 9.0, 3.0)]
    assert marts.execute("SELECT year, longest_session_minutes, days_listened, busiest_date::VARCHAR, "
                         "busiest_local_hour FROM mart_year_in_review").fetchall() == [(2024, 9.0, 4, "2024-03-05", 0)]  # ties: earliest


def test_the_current_streak_ends_today_or_yesterday_and_the_summary_says_how_you_listen(sessions):
    _, marts, data = sessions
    # Local dates with a stream: March 4 and 5, March 31, April 2 (Berlin).
    query = "SELECT streak_start::VARCHAR, streak_end::VARCHAR, days, streams FROM current_streak(today := ?)"
    assert marts.execute(query, ["2024-03-05"]).fetchall() == [("2024-03-04", "2024-03-05", 2, 4)]
    assert marts.execute(query, ["2024-03-06"]).fetchall() == [("2024-03-04", "2024-03-05", 2, 4)]  # yesterday
    assert marts.execute(query, ["2024-03-07"]).fetchall() == []
    assert marts.execute("SELECT count(*) FROM current_streak()").fetchall() == [(0,)]  # today: 2024 is long gone
    summary = subprocess.run([CLI, "summary"], env=cli_environment(data), capture_output=True, text=True, timeout=300)
    assert summary.returncode == 0, summary.stderr
    lines = summary.stdout.split("how you listen:\n", 1)[1].splitlines()[:4]
    assert lines == [
        "  skips: 0.0% of 8 plays whose skip is known (the extended history has it)",
        "  sessions: 4, typically 6 minutes; the longest 9 minutes, on 2024-04-02 (a pause of more than 30 minutes "
        "ends one)",
        "  streaks of days with a stream: no current streak (none ends today or yesterday); the longest 2 days, "
        "2024-03-04 to 2024-03-05",
        "  2024: 27 minutes on 4 days, 1 new artist, most streamed: Skipper (every year: SELECT * FROM "
        "mart_year_in_review)",
    ]
