"""The independent oracle: what the marts must say, computed in plain Python from the true plays.

Nothing here reads the warehouse's logic: it converts each true play's end time to the configured
zone with zoneinfo and counts. `compare_with_marts` then asks the published marts the same questions
and lists every figure that differs.
"""

from __future__ import annotations

import random
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from spotify_assets.lib.synthetic.exports import SyntheticHistory, platform_of


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
    # Section 9: None where no extended record is behind the play; the fields the skip patterns group by.
    is_skip: bool | None = None
    platform: str | None = None
    shuffle: bool | None = None
    reason_start: str | None = None
    offline: bool | None = None
    # When the play ended as the warehouse knows it (UTC): an extended record's second, else the account data's minute;
    # and the track URI it knows (only extended records carry one).
    played_at: datetime | None = None
    uri: str | None = None
    duration_ms: int | None = None  # the true length of the track played
    release_year: int | None = None  # the year the track's album came out


SESSION_GAP = timedelta(minutes=30)
# Section 10: the local dates each of Spotify's time ranges is compared over, ending on the pull's day (None: all).
SPOTIFY_WINDOW_DAYS = {"short_term": 28, "medium_term": 182, "long_term": None}
DISCOVERY_DAYS = 30


def warehouse_skip(history: SyntheticHistory, play) -> bool | None:
    """The play's skip as the warehouse must count it (counting rules, section 9): unknown without an extended
    record; else the skip flag of any extended record that carries one, or a forward or back button before 30 s."""
    extended = [export for export in history.exports if export.spec.source == "extended"
                and export.spec.window_start <= play.ended_at < export.spec.window_end]
    if not extended:
        return None
    flagged = any(id(play) not in export.skip_flag_missing for export in extended) and play.skipped
    return bool(flagged) or (play.reason_end in ("fwdbtn", "backbtn") and play.ms_played < 30_000)


class Oracle:
    def __init__(self, history: SyntheticHistory, timezone_name: str, catalog_known: bool = False):
        """`catalog_known`: the catalog enrichment has described every track URI (the demo's simulated Spotify did)."""
        zone = ZoneInfo(timezone_name)
        self.catalog_known = catalog_known
        self.plays: list[OraclePlay] = []
        for play in history.plays:
            if play.kind != "music" or not history.sources_of(play):
                continue
            # Exports truncate the end time (to the second or minute), which never changes its hour.
            local = play.ended_at.replace(tzinfo=timezone.utc).astimezone(zone)
            artist_key = normalize(play.item.artist)
            is_skip = warehouse_skip(history, play)
            known = is_skip is not None
            played_at = play.ended_at.replace(microsecond=0) if known else play.ended_at.replace(second=0, microsecond=0)
            self.plays.append(OraclePlay(
                local.date(), local.hour, local.isoweekday(), artist_key,
                artist_key + "\x1f" + normalize(play.item.name), play.item.artist, play.item.name,
                play.ms_played >= 30_000, play.ms_played, is_skip, platform_of(play) if known else None,
                play.shuffle if known else None, play.reason_start if known else None, play.offline if known else None,
                played_at, play.uri if known else None, play.item.duration_ms, int(play.item.release_date[:4])))
        self.streams = [p for p in self.plays if p.is_stream]
        self.zone = zone
        self.episode_ms_by_year: Counter = Counter()  # episodes and audiobook chapters
        for play in history.plays:
            if play.kind in ("episode", "audiobook") and history.sources_of(play):
                self.episode_ms_by_year[play.ended_at.replace(tzinfo=timezone.utc).astimezone(zone).year] += play.ms_played
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

    def spotify_compared(self, lists: dict[tuple[str, str], list[dict]], day: date) \
            -> dict[tuple[str, str], list[tuple[int, int | None]]]:
        """(Spotify's rank, your rank) of each item of Spotify's lists pulled on `day`, per (time range, artist or
        track): your rank by streams over the matching window, met through the items' names (section 10)."""
        result = {}
        for time_range, days in SPOTIFY_WINDOW_DAYS.items():
            start = day - timedelta(days=days - 1) if days else date.min
            for item_type, key in (("artists", "artist_key"), ("tracks", "track_key")):
                order = {k: rank for rank, (k, _) in enumerate(self.top(key, start, day, n=len(self._names)), start=1)}
                ranks = []
                for rank, item in enumerate(lists.get((item_type, time_range), []), start=1):
                    item_key = (normalize(item["name"]) if item_type == "artists" else
                                normalize(item["artists"][0]["name"]) + "\x1f" + normalize(item["name"]))
                    ranks.append((rank, order.get(item_key)))
                result[(time_range, item_type[:-1])] = ranks
        return result

    def playlist_listening(self, entries: list[dict], day: date) -> tuple[int, int, int, int]:
        """(tracks, tracks streamed up to `day`, tracks never streamed, streams on `day`-29..`day` of its distinct
        tracks) of a playlist's entries as Spotify gives them (section 10)."""
        keys = [normalize(item["artists"][0]["name"]) + "\x1f" + normalize(item["name"])
                if (item := entry.get("item")) and item.get("type") == "track" else None for entry in entries]
        ever = Counter(p.track_key for p in self.streams if p.local_date <= day)
        recent = Counter(p.track_key for p in self.streams if day - timedelta(days=29) <= p.local_date <= day)
        streamed = sum(1 for k in keys if ever[k])
        return len(keys), streamed, len(keys) - streamed, sum(recent[k] for k in set(keys) if k)

    def catalog_features(self, rows: list[list], reccobeats: dict[str, dict] | None = None) \
            -> dict[str, dict[str, float]]:
        """Section 11: per track key, ReccoBeats' features for the smallest of the Spotify ids its plays carry that
        `reccobeats` (Spotify id -> features) answered for; else the features of the catalog-file row
        (lib/synthetic/catalog_file.py's layout) that meets it by such an id, else by the key of its names; the first
        row of the better level. Rows without an artist or a name, or with a feature out of 0..1, meet nothing."""
        ids: dict[str, set[str]] = {}
        for play in self.plays:
            if play.uri:
                ids.setdefault(play.track_key, set()).add(play.uri.rsplit(":", 1)[-1])
        by_id = {track_id: key for key, track_ids in ids.items() for track_id in track_ids}
        best: dict[str, tuple] = {}
        for index, row in enumerate(rows):
            track_id, artist, _, name = row[:4]
            danceability, energy, valence, _, acousticness = row[6:11]
            if not artist or not name or not all(0 <= v <= 1 for v in (danceability, energy, valence, acousticness)):
                continue
            features = {"danceability": danceability, "energy": energy, "valence": valence,
                        "acousticness": acousticness}
            for level, key in ((1, by_id.get(track_id)), (3, normalize(artist) + "\x1f" + normalize(name))):
                if key in self._names and (key not in best or (level, index) < best[key][0]):
                    best[key] = ((level, index), features)
        for key, track_ids in ids.items():
            answered = sorted(track_ids & set(reccobeats or {}))
            if answered:
                best[key] = ((0, 0), {name: (reccobeats or {})[answered[0]][name]
                                      for name in ("danceability", "energy", "valence", "acousticness")})
        return {key: features for key, (_, features) in best.items()}

    @staticmethod
    def mood(features: dict[str, float] | None) -> str | None:
        if features is None:
            return None
        return {(True, True): "happy-energetic", (True, False): "calm-content", (False, True): "tense-angry",
                (False, False): "sad-low"}[(features["valence"] >= 0.5, features["energy"] >= 0.5)]

    def mood_cells(self, features: dict[str, dict[str, float]], cell) -> dict:
        """Per cell (`cell(play)`, e.g. its weekday and hour): (streams, streams with features, streams per quadrant in
        happy-energetic, calm-content, tense-angry, sad-low order, mean valence of those with features or None)."""
        cells: dict = {}
        for play in self.streams:
            figures = cells.setdefault(cell(play), [0, 0, Counter(), []])
            figures[0] += 1
            if play.track_key in features:
                figures[1] += 1
                figures[2][self.mood(features[play.track_key])] += 1
                figures[3].append(features[play.track_key]["valence"])
        quadrants = ("happy-energetic", "calm-content", "tense-angry", "sad-low")
        return {key: (s, f, tuple(q[m] for m in quadrants), sum(v) / len(v) if v else None)
                for key, (s, f, q, v) in cells.items()}

    def skips_weekday_hour(self) -> dict[tuple[int, int], tuple[int, int]]:
        """(plays whose skip is known, skips) per ISO weekday and local hour, all 168 cells."""
        known = Counter((p.iso_weekday, p.local_hour) for p in self.plays if p.is_skip is not None)
        skips = Counter((p.iso_weekday, p.local_hour) for p in self.plays if p.is_skip)
        return {(w, h): (known[(w, h)], skips[(w, h)]) for w in range(1, 8) for h in range(24)}

    def skips_by(self) -> dict[tuple[str, str | None], tuple[int, int]]:
        """(plays whose skip is known, skips) per dimension and value, as mart_skips_by gives them."""
        counts: dict[tuple[str, str | None], list[int]] = {}
        for play in self.plays:
            if play.is_skip is None:
                continue
            for dimension, value in (("platform", play.platform), ("shuffle", str(play.shuffle).lower()),
                                     ("reason_start", play.reason_start), ("offline", str(play.offline).lower())):
                cell = counts.setdefault((dimension, value), [0, 0])
                cell[0] += 1
                cell[1] += play.is_skip
        return {key: tuple(value) for key, value in counts.items()}

    def most_skipped(self, start: date, end: date, n: int = 10, min_plays: int = 5) \
            -> list[tuple[str, int, int, float]]:
        """(track key, plays whose skip is known, skips, skip rate) as most_skipped_tracks ranks them."""
        known, skips = Counter(), Counter()
        for play in self.plays:
            if start <= play.local_date <= end and play.is_skip is not None:
                known[play.track_key] += 1
                skips[play.track_key] += play.is_skip
        rows = [(k, known[k], skips[k], skips[k] / known[k]) for k in known if known[k] >= max(min_plays, 1)]
        return sorted(rows, key=lambda row: (-row[3], -row[2], self._names[row[0]]))[:n]

    def streaks(self) -> list[tuple[date, date, int, int]]:
        """(start, end, days, streams) of every run of consecutive local dates with a stream, oldest first."""
        per_day = Counter(p.local_date for p in self.streams)
        runs: list[list] = []
        for day in sorted(per_day):
            if runs and runs[-1][1] + timedelta(days=1) == day:
                runs[-1][1], runs[-1][2], runs[-1][3] = day, runs[-1][2] + 1, runs[-1][3] + per_day[day]
            else:
                runs.append([day, day, 1, per_day[day]])
        return [tuple(run) for run in runs]

    def artist_streaks(self) -> dict[str, tuple[date, int]]:
        """Per artist with a stream: (first stream's local date, longest run of consecutive dates with a stream)."""
        days: dict[str, set[date]] = {}
        for play in self.streams:
            days.setdefault(play.artist_key, set()).add(play.local_date)
        result = {}
        for artist, dates in days.items():
            longest = run = 0
            for day in sorted(dates):
                run = run + 1 if day - timedelta(days=1) in dates else 1
                longest = max(longest, run)
            result[artist] = (min(dates), longest)
        return result

    def track_lengths(self) -> dict[str, int | None]:
        """Per track key: the length of its most played URI (ties: the first URI), None where no URI or no catalog."""
        uri_plays: dict[str, Counter] = {}
        lengths: dict[str, int] = {}
        for play in self.plays:
            uri_plays.setdefault(play.track_key, Counter())
            if play.uri and self.catalog_known:
                uri_plays[play.track_key][play.uri] += 1
                lengths[play.uri] = play.duration_ms
        return {key: lengths[min(counts, key=lambda uri: (-counts[uri], uri))] if counts else None
                for key, counts in uri_plays.items()}

    def completion(self) -> tuple[int, float]:
        """(plays with a completion, their completions summed): min(ms_played / length, 1) where the length is known."""
        lengths = self.track_lengths()
        known = [min(p.ms_played / lengths[p.track_key], 1.0) for p in self.plays if lengths[p.track_key]]
        return len(known), round(sum(known), 6)

    def release_years(self) -> dict[int | None, tuple[int, int]]:
        """(streamed tracks, streams) per release year: a track's is the earliest of its URIs the catalog describes."""
        years: dict[str, int | None] = {}
        for play in self.plays:
            known = play.release_year if play.uri and self.catalog_known else None
            if known is not None:
                years[play.track_key] = min(years.get(play.track_key) or known, known)
            else:
                years.setdefault(play.track_key, None)
        tracks, streams = Counter(), Counter()
        for key in {p.track_key for p in self.streams}:
            tracks[years[key]] += 1
        for play in self.streams:
            streams[years[play.track_key]] += 1
        return {year: (tracks[year], streams[year]) for year in tracks}

    def weekday_weekend_artists(self) -> dict[str, tuple[int, int]]:
        """Per artist with a stream: (streams Monday to Friday, streams Saturday and Sunday), local."""
        counts: dict[str, list[int]] = {}
        for play in self.streams:
            counts.setdefault(play.artist_key, [0, 0])[play.iso_weekday >= 6] += 1
        return {key: tuple(value) for key, value in counts.items()}

    def sessions(self) -> list[list[OraclePlay]]:
        """The plays of each session, oldest first: a play opens one when it started more than 30 minutes after the
        previous play ended."""
        sessions: list[list[OraclePlay]] = []
        previous_end = None
        for play in sorted(self.plays, key=lambda p: p.played_at):
            start = play.played_at - timedelta(milliseconds=play.ms_played)
            if previous_end is None or start > previous_end + SESSION_GAP:
                sessions.append([])
            sessions[-1].append(play)
            previous_end = play.played_at
        return sessions

    def _local_date(self, utc: datetime) -> date:
        return utc.replace(tzinfo=timezone.utc).astimezone(self.zone).date()

    def session_rows(self) -> list[tuple]:
        """fct_sessions' (started_at_utc, ended_at_utc, local_date, plays, streams, minutes, distinct_artists, skips,
        plays_known), oldest first. The start is the first play's, the first by end time, then play_id; where several
        plays end first at once (account data knows the minute only), `started_at_utc` is the set of their starts."""
        rows = []
        for plays in self.sessions():
            starts = {p.played_at - timedelta(milliseconds=p.ms_played) for p in plays if p.played_at == plays[0].played_at}
            start = min(starts) if len(starts) == 1 else frozenset(starts)
            first = min(starts)
            rows.append((start, max(p.played_at for p in plays), self._local_date(first), len(plays),
                         sum(p.is_stream for p in plays), sum(p.ms_played for p in plays) / 60000,
                         len({p.artist_key for p in plays}), sum(bool(p.is_skip) for p in plays),
                         sum(p.is_skip is not None for p in plays)))
        return sorted(rows, key=lambda row: row[1])

    def sessions_monthly(self, sessions: list[tuple]) -> dict[date, tuple]:
        """Per month: (sessions, plays, longest session's minutes, median minutes, median plays) of `session_rows`."""
        months: dict[date, list[tuple]] = {}
        for row in sessions:
            months.setdefault(row[2].replace(day=1), []).append(row)
        return {month: (len(rows), sum(r[3] for r in rows), round(max(r[5] for r in rows), 6),
                        round(statistics.median(r[5] for r in rows), 6), float(statistics.median(r[3] for r in rows)))
                for month, rows in months.items()}

    def first_streams(self, key: str) -> dict[str, date]:
        firsts: dict[str, date] = {}
        for play in self.streams:
            k = getattr(play, key)
            firsts[k] = min(firsts.get(k, play.local_date), play.local_date)
        return firsts

    def discovery_monthly(self) -> dict[date, tuple[int, int, int, int, int]]:
        """Per local month with a music play: (new artists, new tracks, streams, discovering, returning)."""
        artists, tracks = self.first_streams("artist_key"), self.first_streams("track_key")
        months = {p.local_date.replace(day=1) for p in self.plays}
        new_artists = Counter(d.replace(day=1) for d in artists.values())
        new_tracks = Counter(d.replace(day=1) for d in tracks.values())
        streams, discovering = Counter(), Counter()
        for play in self.streams:
            month = play.local_date.replace(day=1)
            streams[month] += 1
            discovering[month] += (play.local_date - artists[play.artist_key]).days <= DISCOVERY_DAYS
        return {m: (new_artists[m], new_tracks[m], streams[m], discovering[m], streams[m] - discovering[m])
                for m in months}

    def new_artists(self, start: date, end: date) -> list[tuple[str, date, int]]:
        """(artist key, first stream date, streams in the range) of the artists first streamed in the range."""
        firsts = self.first_streams("artist_key")
        streams = Counter(p.artist_key for p in self.streams if start <= p.local_date <= end)
        chosen = [(k, d, streams[k]) for k, d in firsts.items() if start <= d <= end]
        return sorted(chosen, key=lambda row: (row[1], self._names[row[0]][0]))

    def year_in_review(self, sessions: list[tuple]) -> dict[int, tuple]:
        """mart_year_in_review's row per local year with a music play, as a tuple in its column order (names NFC);
        `sessions` as session_rows gives them."""
        years = sorted({p.local_date.year for p in self.plays})
        streaks = self.streaks()
        first_artists = self.first_streams("artist_key")
        result = {}
        for year in years:
            plays = [p for p in self.plays if p.local_date.year == year]
            streams = [p for p in plays if p.is_stream]
            per_day = Counter(p.local_date for p in streams)
            per_hour = Counter(p.local_hour for p in streams)
            artists = Counter(p.artist_key for p in streams)
            tracks = Counter(p.track_key for p in streams)
            top_artists = sorted(artists, key=lambda k: (-artists[k], self._names[k]))[:5]
            top_tracks = sorted(tracks, key=lambda k: (-tracks[k], self._names[k]))[:5]
            jan1, dec31 = date(year, 1, 1), date(year, 12, 31)
            streak_days = [(min(end, dec31) - max(start, jan1)).days + 1 for start, end, _, _ in streaks
                           if start <= dec31 and end >= jan1]
            session_minutes = [row[5] for row in sessions if row[2].year == year]
            known = [p for p in plays if p.is_skip is not None]
            result[year] = (
                year, round(sum(p.ms_played for p in plays) / 60000, 6), len(streams), len(per_day),
                [self._names[k][0] for k in top_artists], [self._names[k][0] for k in top_tracks],
                sum(d.year == year for d in first_artists.values()),
                round(max(session_minutes), 6) if session_minutes else None, max(streak_days, default=0),
                min(per_day, key=lambda d: (-per_day[d], d)) if per_day else None,
                min(per_hour, key=lambda h: (-per_hour[h], h)) if per_hour else None,
                round(sum(bool(p.is_skip) for p in known) / len(known), 9) if known else None, len(known),
                round(self.episode_ms_by_year[year] / 60000, 6))
        return result

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


def compare_with_marts(oracle: Oracle, connection, spotify=None, catalog_rows=None) -> tuple[int, list[str]]:
    """(figures compared, the ones that differ) against a connection to the published marts; with `spotify` (the
    simulated Spotify the marts pulled its view from), its top lists and playlists too; with `catalog_rows` (the
    catalog file imported), the audio features and moods."""
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
    known, skips = connection.execute("SELECT count(is_skip), count_if(is_skip) FROM fct_plays").fetchall()[0]
    check("plays whose skip is known", sum(p.is_skip is not None for p in oracle.plays), known)
    check("skips", sum(bool(p.is_skip) for p in oracle.plays), skips)
    skip_cells = {(w, h): (k, s) for w, h, k, s in connection.execute(
        "SELECT iso_weekday, local_hour, plays_known, skips FROM mart_skips_weekday_hour").fetchall()}
    for cell, expected in oracle.skips_weekday_hour().items():
        check(f"skips weekday x hour {cell}", expected, skip_cells.get(cell))
    check("skips by platform, shuffle, reason_start, offline", oracle.skips_by(),
          {(d, v): (k, s) for d, v, k, s in connection.execute(
              "SELECT dimension, value, plays_known, skips FROM mart_skips_by").fetchall()})
    for start, end in oracle.sample_ranges():
        check(f"most skipped tracks {start}..{end}", oracle.most_skipped(start, end),
              connection.execute("SELECT track_key, plays_known, skips, skip_rate FROM most_skipped_tracks(?, ?)",
                                 [start, end]).fetchall())
    check("streaks", oracle.streaks(), connection.execute(
        "SELECT streak_start, streak_end, days, streams FROM mart_streaks ORDER BY streak_start").fetchall())
    check("first stream and longest streak of every artist", oracle.artist_streaks(), {
        key: (first, longest) for key, first, longest in connection.execute(
            "SELECT artist_key, first_stream_date, longest_streak_days FROM dim_artist WHERE streams > 0").fetchall()})
    for local_date, hour in oracle.sample_hours():
        rows = connection.execute("SELECT track_name, artist_name, streams FROM hour_drilldown(?, ?)", [local_date, hour]).fetchall()
        got = Counter({(unicodedata.normalize("NFC", t), unicodedata.normalize("NFC", a)): s for t, a, s in rows})
        check(f"drilldown {local_date} {hour}:00", oracle.drilldown(local_date, hour), got)
    compare_section_nine(oracle, connection, check)
    if spotify is not None:
        compare_section_ten(oracle, connection, spotify, check)
    if catalog_rows is not None:
        compare_section_eleven(oracle, connection, catalog_rows, check)
    return compared, mismatches


def compare_section_eleven(oracle: Oracle, connection, catalog_rows: list[list], check) -> None:
    """Audio features from the catalog file, each play's mood and the mood marts (counting rules, section 11)."""
    features = oracle.catalog_features(catalog_rows)
    check("tracks with features", features, {key: {"danceability": d, "energy": e, "valence": v, "acousticness": a}
                                             for key, d, e, v, a in connection.execute(
        "SELECT track_key, danceability, energy, valence, acousticness FROM dim_track WHERE features_source IS NOT NULL"
    ).fetchall()})
    check("plays per mood", Counter(oracle.mood(features.get(p.track_key)) for p in oracle.plays),
          Counter(mood for (mood,) in connection.execute("SELECT mood FROM fct_plays").fetchall()))
    expected = oracle.mood_cells(features, lambda play: (play.iso_weekday, play.local_hour))
    got = {(w, h): (s, f, (a, b, c, d), v) for w, h, s, f, a, b, c, d, v in connection.execute(
        "SELECT iso_weekday, local_hour, streams, streams_with_features, happy_energetic, calm_content, tense_angry, "
        "sad_low, round(mean_valence, 9) FROM mart_mood_weekday_hour WHERE streams > 0").fetchall()}
    check("mood by weekday x hour", {cell: (*figures[:3], None if figures[3] is None else round(figures[3], 9))
                                     for cell, figures in expected.items()}, got)
    months = oracle.mood_cells(features, lambda play: play.local_date.replace(day=1))
    got_months = {month: (s, f) for month, s, f in connection.execute(
        "SELECT month, streams, streams_with_features FROM mart_mood_monthly").fetchall()}
    check("mood per month", {month: figures[:2] for month, figures in months.items()}, got_months)


def compare_section_ten(oracle: Oracle, connection, spotify, check) -> None:
    """Spotify's ranks beside yours and the playlists you play (counting rules, section 10), against what the simulated
    Spotify answered, on the day the marts say it was pulled."""
    day = connection.execute("SELECT max(snapshot_date) FROM fct_spotify_top_items").fetchall()[0][0]
    check("Spotify's view pulled", True, day is not None)
    if day is None:
        return
    got: dict = {}
    for time_range, item_type, spotify_rank, own_rank in connection.execute(
            "SELECT time_range, item_type, spotify_rank, own_rank FROM mart_top_items_compared "
            "ORDER BY time_range, item_type, spotify_rank").fetchall():
        got.setdefault((time_range, item_type), []).append((spotify_rank, own_rank))
    for key, expected in oracle.spotify_compared(spotify.top_items, day).items():
        check(f"Spotify's {key[1]}s, {key[0]}, beside yours", expected, got.get(key))
    listening = {row[0]: tuple(row[1:]) for row in connection.execute(
        "SELECT name, tracks, tracks_streamed, tracks_never_streamed, streams_last_30_days FROM mart_playlist_listening "
        "WHERE items_known").fetchall()}
    readable = [playlist for playlist in spotify.playlists if playlist["readable"]]
    check("playlists whose items are known", sorted(p["name"] for p in readable), sorted(listening))
    for playlist in readable:
        check(f"playlist {playlist['name']}", oracle.playlist_listening(playlist["entries"], day),
              listening.get(playlist["name"]))


def _nfc(names: list[str]) -> list[str]:
    return [unicodedata.normalize("NFC", name).strip() for name in names]


def compare_section_nine(oracle: Oracle, connection, check) -> None:
    """Completion, sessions, discovery and the year in review (counting rules, section 9)."""
    check("track lengths", oracle.track_lengths(), dict(connection.execute(
        "SELECT track_key, duration_ms FROM dim_track").fetchall()))
    count, total = connection.execute("SELECT count(completion), round(coalesce(sum(completion), 0), 6) "
                                      "FROM fct_plays").fetchall()[0]
    check("plays with a completion, completions summed", oracle.completion(), (count, total))
    sessions = oracle.session_rows()
    got = connection.execute(
        "SELECT started_at_utc, ended_at_utc, local_date, plays, streams, round(minutes, 6), distinct_artists, skips, "
        "plays_known FROM fct_sessions ORDER BY ended_at_utc").fetchall()
    check("sessions", len(sessions), len(got))
    for index, (expected, actual) in enumerate(zip(sessions, got)):
        if isinstance(expected[0], frozenset) and actual[0] in expected[0]:  # one of the plays that ended first at once
            expected = sessions[index] = (actual[0], expected[1], oracle._local_date(actual[0]), *expected[3:])
        check(f"session ending {expected[1]}", (*expected[:5], round(expected[5], 6), *expected[6:]), actual)
    check("plays per session in fct_plays", sorted(row[3] for row in sessions), sorted(n for (n,) in connection.execute(
        "SELECT count(*) FROM fct_plays GROUP BY session_id").fetchall()))
    check("sessions per month", oracle.sessions_monthly(sessions), {row[0]: tuple(row[1:]) for row in connection.execute(
        "SELECT month, sessions, plays, round(longest_session_minutes, 6), round(median_session_minutes, 6), median_session_plays "
        "FROM mart_sessions_monthly").fetchall()})
    check("discovery per month", oracle.discovery_monthly(), {row[0]: tuple(row[1:]) for row in connection.execute(
        "SELECT month, new_artists, new_tracks, streams, streams_discovering, streams_returning "
        "FROM mart_discovery_monthly").fetchall()})
    for start, end in oracle.sample_ranges():
        check(f"new artists {start}..{end}", oracle.new_artists(start, end), connection.execute(
            "SELECT artist_key, first_stream_date, streams FROM new_artists(?, ?)", [start, end]).fetchall())
    check("artists' weekday and weekend streams", oracle.weekday_weekend_artists(), {
        key: (int(weekday), int(weekend)) for key, weekday, weekend in connection.execute(
            "SELECT key, weekday_streams, weekend_streams FROM mart_weekday_weekend_shares WHERE dimension = 'artist'"
        ).fetchall()})
    check("streams by release year", oracle.release_years(), {
        year: (tracks, streams) for year, tracks, streams in connection.execute(
            "SELECT release_year, tracks, streams FROM mart_release_years").fetchall()})
    years = {}
    for row in connection.execute(
            "SELECT year, round(minutes, 6), streams, days_listened, top_artists, top_tracks, new_artists, "
            "round(longest_session_minutes, 6), longest_streak_days, busiest_date, busiest_local_hour, round(skip_rate, 9), "
            "plays_known, round(episode_minutes, 6) FROM mart_year_in_review").fetchall():
        years[row[0]] = (*row[:4], _nfc(row[4]), _nfc(row[5]), *row[6:])
    in_review = oracle.year_in_review(sessions)
    check("years in review", sorted(in_review), sorted(years))
    for year, expected in in_review.items():
        check(f"year in review {year}", expected, years.get(year))
