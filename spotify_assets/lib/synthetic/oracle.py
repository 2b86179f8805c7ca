"""The independent oracle: what the marts must say, computed in plain Python from the true plays.

Nothing here reads the warehouse's logic: it converts each true play's end time to the configured
zone with zoneinfo and counts. `compare_with_marts` then asks the published marts the same questions
and lists every figure that differs.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from zoneinfo import ZoneInfo

from spotify_assets.lib.synthetic.exports import SyntheticHistory


def normalize(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().casefold()


@dataclass(frozen=True)
class OraclePlay:
    local_date: date
    local_hour: int
    iso_weekday: int
    artist_key: str
    track_key: str
    artist: str
    track: str
    is_stream: bool
    ms_played: int


class Oracle:
    def __init__(self, history: SyntheticHistory, timezone_name: str):
        zone = ZoneInfo(timezone_name)
        self.plays: list[OraclePlay] = []
        for play in history.plays:
            if play.kind != "music" or not history.sources_of(play):
                continue
            # Exports truncate the end time (to the second or minute), which never changes its hour.
            local = play.ended_at.replace(tzinfo=timezone.utc).astimezone(zone)
            artist_key = normalize(play.item.artist)
            self.plays.append(OraclePlay(local.date(), local.hour, local.isoweekday(), artist_key,
                                         artist_key + "\x1f" + normalize(play.item.name), play.item.artist,
                                         play.item.name, play.ms_played >= 30_000, play.ms_played))
        self.streams = [p for p in self.plays if p.is_stream]
        self._names = {p.artist_key: (p.artist,) for p in self.plays} | {p.track_key: (p.track, p.artist) for p in self.plays}

    def weekday_hour(self) -> dict[tuple[int, int], int]:
        counts = Counter((p.iso_weekday, p.local_hour) for p in self.streams)
        return {(w, h): counts.get((w, h), 0) for w in range(1, 8) for h in range(24)}

    def calendar(self) -> list[tuple[date, int, int, int, int]]:
        per_day = Counter(p.local_date for p in self.streams)
        first, last = min(p.local_date for p in self.plays), max(p.local_date for p in self.plays)
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        return [(d, *d.isocalendar(), per_day.get(d, 0)) for d in days]

    def year_month(self) -> dict[tuple[int, int], int]:
        return dict(Counter((p.local_date.year, p.local_date.month) for p in self.streams))

    def top(self, key: str, start: date, end: date, n: int = 10) -> list[tuple[str, int]]:
        counts = Counter(getattr(p, key) for p in self.streams if start <= p.local_date <= end)
        return sorted(counts.items(), key=lambda item: (-item[1], self._names[item[0]]))[:n]

    def top_by(self, key: str, start: date, end: date, n: int = 10, order_by: str = "streams") \
            -> list[tuple[str, int, float]]:
        """(key, streams, minutes) of the top `n` by streams or by minutes (every play counts, skips included); a key
        with nothing to rank by is left out."""
        streams, ms_played = Counter(), Counter()
        for play in self.plays:
            if start <= play.local_date <= end:
                streams[getattr(play, key)] += play.is_stream
                ms_played[getattr(play, key)] += play.ms_played
        ranked = streams if order_by == "streams" else ms_played
        keys = sorted((k for k in ranked if ranked[k] > 0), key=lambda k: (-ranked[k], self._names[k]))[:n]
        return [(k, streams[k], ms_played[k] / 60000) for k in keys]

    def drilldown(self, local_date: date, hour: int) -> Counter:
        return Counter((p.track, p.artist) for p in self.streams if p.local_date == local_date and p.local_hour == hour)

    def sample_hours(self, count: int = 8, seed: int = 5) -> list[tuple[date, int]]:
        by_hour = Counter((p.local_date, p.local_hour) for p in self.streams)
        busiest = [hour for hour, _ in by_hour.most_common(3)]
        return busiest + random.Random(seed).sample(sorted(by_hour), min(count - 3, len(by_hour)))

    def sample_ranges(self) -> list[tuple[date, date]]:
        first, last = min(p.local_date for p in self.plays), max(p.local_date for p in self.plays)
        middle = first + (last - first) / 2
        return [(date(1900, 1, 1), date(2100, 1, 1)), (date(middle.year, 1, 1), date(middle.year, 12, 31)),
                (middle, middle + timedelta(days=45)), (last - timedelta(days=6), last), (middle, middle)]


def compare_with_marts(oracle: Oracle, connection) -> tuple[int, list[str]]:
    """(figures compared, the ones that differ) against a connection to the published marts."""
    compared, mismatches = 0, []

    def check(name: str, expected, actual) -> None:
        nonlocal compared
        compared += 1
        if expected != actual:
            mismatches.append(f"{name}: expected {expected!r:.200}, got {actual!r:.200}")

    totals = connection.execute("SELECT count(*), count_if(is_stream) FROM fct_plays").fetchall()[0]
    check("music plays", len(oracle.plays), totals[0])
    check("streams", len(oracle.streams), totals[1])
    cells = {(w, h): s for w, h, s in connection.execute(
        "SELECT iso_weekday, local_hour, streams FROM mart_heatmap_weekday_hour").fetchall()}
    for cell, streams in oracle.weekday_hour().items():
        check(f"weekday x hour {cell}", streams, cells.get(cell))
    calendar = {row[0]: row for row in connection.execute(
        "SELECT local_date, iso_year, iso_week, iso_weekday, streams FROM mart_heatmap_calendar").fetchall()}
    expected_calendar = oracle.calendar()
    check("calendar days", len(expected_calendar), len(calendar))
    for row in expected_calendar:
        check(f"calendar {row[0]}", row, calendar.get(row[0]))
    months = {(y, m): s for y, m, s in connection.execute("SELECT year, month, streams FROM mart_heatmap_year_month").fetchall() if s}
    check("year x month", oracle.year_month(), months)
    for start, end in oracle.sample_ranges():
        check(f"top artists {start}..{end}", oracle.top("artist_key", start, end),
              connection.execute("SELECT artist_key, streams FROM top_artists(?, ?)", [start, end]).fetchall())
        check(f"top tracks {start}..{end}", oracle.top("track_key", start, end),
              connection.execute("SELECT track_key, streams FROM top_tracks(?, ?)", [start, end]).fetchall())
        check(f"top artists by minutes {start}..{end}", oracle.top_by("artist_key", start, end, order_by="minutes"),
              connection.execute("SELECT artist_key, streams, minutes FROM top_artists(?, ?, order_by := 'minutes')",
                                 [start, end]).fetchall())
        check(f"top tracks by minutes {start}..{end}", oracle.top_by("track_key", start, end, order_by="minutes"),
              connection.execute("SELECT track_key, streams, minutes FROM top_tracks(?, ?, order_by := 'minutes')",
                                 [start, end]).fetchall())
    for local_date, hour in oracle.sample_hours():
        rows = connection.execute("SELECT track_name, artist_name, streams FROM hour_drilldown(?, ?)", [local_date, hour]).fetchall()
        got = Counter({(unicodedata.normalize("NFC", t), unicodedata.normalize("NFC", a)): s for t, a, s in rows})
        check(f"drilldown {local_date} {hour}:00", oracle.drilldown(local_date, hour), got)
    return compared, mismatches
