"""The ground truth: every play a synthetic listener really made, once, with millisecond end times.

Listening follows a daily and weekly rhythm in the listener's own time zone, in sessions of
back-to-back plays; it has skips under 30 s, repeats, repeat-one bursts (the same track skipped after the
same few seconds, several times within a minute: identical account-data rows), two devices ending a play in
the same second, podcasts, audiobooks, rows without metadata, and sessions across every DST change in the
range (the last day always starts with a burst), pauses planted on the session rule's edge (30 minutes, 30:01,
29:59), and the least played artists first played in the history's last weeks.
Deterministic for a seed. Exports are rendered from this truth (see `exports.py`).
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from spotify_assets.lib.synthetic.catalog import Catalog, Chapter, Episode, Track

# Relative listening by local hour (weekdays; weekends start later).
_WEEKDAY_HOURS = [1, .5, .3, .2, .2, .3, 1, 3, 5, 4, 3, 3, 4, 3, 3, 3, 4, 5, 5, 6, 7, 6, 4, 2]
_WEEKEND_HOURS = [2, 1.5, 1, .5, .3, .2, .2, .5, 1, 2, 4, 5, 5, 5, 4, 4, 4, 5, 6, 7, 7, 6, 5, 3]
_WEEKDAY_FACTOR = [1.0, 1.0, 1.05, 1.0, 1.15, 1.3, 1.2]  # Monday .. Sunday
_AUDIOBOOKS_FROM = datetime(2023, 6, 1)  # audiobooks exist in Spotify (and exports) only recently
_SKIP_REASONS = ["fwdbtn", "backbtn", "clickrow", "endplay"]
# Plays on the session rule's edge (counting rules, section 9), one group on each of a few early mornings: (milliseconds
# played, pause since the previous play ended). Exactly 30 minutes keeps a session going, 30 minutes 1 second ends it,
# 29:59 does not. Every end falls on a whole minute, so even the account data (minutes only) keeps the pauses exact.
_SESSION_EDGES = ((180_000, None), (180_000, timedelta(minutes=30)), (179_000, timedelta(minutes=30, seconds=1)),
                  (181_000, timedelta(minutes=29, seconds=59)))
_SESSION_EDGE_DAYS = 6
# Artists discovered late (counting rules, section 9: discovery): the least played ones are kept out of the history
# until one play each in its last weeks.
_LATE_DISCOVERIES = 3


@dataclass(slots=True)
class TruePlay:
    ended_at: datetime  # UTC, naive, millisecond precision: when the stream stopped
    kind: str  # "music", "episode", "audiobook", "no_content"
    item: Track | Episode | Chapter | None
    uri: str | None
    ms_played: int
    skipped: bool
    shuffle: bool
    reason_start: str
    reason_end: str
    device: int
    offline: bool
    incognito: bool

    @property
    def is_stream(self) -> bool:
        return self.kind == "music" and self.ms_played >= 30_000


def _days_with_dst_change(zone: ZoneInfo, first: date, last: date) -> set[date]:
    changes = set()
    day = first
    while day <= last:
        midnight = datetime.combine(day, time(), zone)
        next_midnight = datetime.combine(day + timedelta(days=1), time(), zone)
        if midnight.utcoffset() != next_midnight.utcoffset():
            changes.add(day)
        day += timedelta(days=1)
    return changes


def _plays_per_day(rng: random.Random, days: list[date], total: int, dst_days: set[date]) -> list[int]:
    weights = []
    for day in days:
        if rng.random() < 0.04:
            weights.append(0.0)  # a day without music (travel, illness)
        else:
            weights.append(_WEEKDAY_FACTOR[day.weekday()] * rng.lognormvariate(0, 0.45) + (2.0 if day in dst_days else 0))
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    for index in rng.sample(range(len(days)), total - sum(counts)) if total > sum(counts) else []:
        counts[index] += 1
    return counts


def generate_plays(rng: random.Random, catalog: Catalog, first_day: date, last_day: date, total: int,
                   zone: ZoneInfo) -> list[TruePlay]:
    """`total` plays: listening days of sessions, a few groups of plays planted on the session rule's edge, and artists
    first played in the history's last weeks."""
    planted = len(_SESSION_EDGES) * _SESSION_EDGE_DAYS
    late_artists = list(dict.fromkeys(track.artist for track in reversed(catalog.tracks)))[:_LATE_DISCOVERIES]
    late_tracks = [next(t for t in catalog.tracks if t.artist == artist) for artist in late_artists]
    weights = [0.0 if track.artist in late_artists else weight
               for track, weight in zip(catalog.tracks, catalog.track_weights)]
    plays = _listening_days(rng, catalog, weights, first_day, last_day, total - planted - len(late_tracks), zone)
    edges = _session_edges(random.Random(rng.random()), catalog, plays, first_day, last_day, zone, planted)
    plays += edges + _late_discoveries(late_tracks, plays + edges, last_day, zone)
    plays.sort(key=lambda play: play.ended_at)
    return plays


def _late_discoveries(tracks: list[Track], plays: list[TruePlay], last_day: date, zone: ZoneInfo) -> list[TruePlay]:
    """One whole play of each track at 04:30 local on one of the history's last 60 days where nothing else plays
    near it."""
    ends = sorted(play.ended_at for play in plays)
    discovered: list[TruePlay] = []
    for days_before in range(5, 365):
        if len(discovered) == len(tracks):
            break
        day = last_day - timedelta(days=days_before * 11 % 60 + 1)
        end = datetime.combine(day, time(4, 30)).replace(tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)
        nearby = bisect.bisect_left(ends, end - timedelta(hours=1))
        if nearby < len(ends) and ends[nearby] < end + timedelta(hours=1):
            continue
        track = tracks[len(discovered)]
        discovered.append(TruePlay(end, "music", track, track.uri, track.duration_ms, False, False, "clickrow",
                                   "trackdone", 0, False, False))
        bisect.insort(ends, end)
    return discovered


def _session_edges(rng: random.Random, catalog: Catalog, plays: list[TruePlay], first_day: date, last_day: date,
                   zone: ZoneInfo, count: int) -> list[TruePlay]:
    """`count` plays in groups of _SESSION_EDGES at 04:00 local on days spread over the history where nothing else
    plays from 03:00 to 07:00."""
    ends = sorted(play.ended_at for play in plays)
    span = (last_day - first_day).days
    planted: list[TruePlay] = []
    for step in range(1, span):
        if len(planted) >= count:
            break
        day = first_day + timedelta(days=(step * 37) % span)  # spread over the years, month and year ends included
        start = datetime.combine(day, time(4, 0)).replace(tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)
        window = bisect.bisect_left(ends, start - timedelta(hours=1))
        if window < len(ends) and ends[window] < start + timedelta(hours=3):
            continue
        end = start
        for ms, pause in _SESSION_EDGES:
            end = end + (pause or timedelta()) + timedelta(milliseconds=ms)
            track = rng.choice(catalog.tracks[:len(catalog.tracks) // 2])  # the late discoveries are at the end
            planted.append(TruePlay(end, "music", track, track.uri, ms, False, False, "trackdone", "trackdone",
                                    0, False, False))
    return planted[:count]


def _listening_days(rng: random.Random, catalog: Catalog, weights: list[float], first_day: date, last_day: date,
                    total: int, zone: ZoneInfo) -> list[TruePlay]:
    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    dst_days = _days_with_dst_change(zone, first_day, last_day)
    counts = _plays_per_day(rng, days, total, dst_days)
    cumulative = list(itertools.accumulate(weights))
    plays: list[TruePlay] = []
    for day, count in zip(days, counts):
        hours = _WEEKEND_HOURS if day.weekday() >= 5 else _WEEKDAY_HOURS
        remaining = count
        first_session = True
        while remaining > 0:
            size = min(remaining, max(1, int(rng.expovariate(1 / 14))))
            if first_session and day in dst_days:
                # Listen straight through the night the clocks change (01:15 local onwards).
                start_local, size = datetime.combine(day, time(1, 15)), min(remaining, max(size, 20))
            else:
                hour = rng.choices(range(24), weights=hours)[0]
                start_local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)))
            cursor = start_local.replace(tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)
            cursor += timedelta(milliseconds=rng.randrange(1000))
            if first_session and day == last_day:
                burst = _repeat_one_burst(rng, catalog.tracks[0], cursor, min(remaining, 3))
                plays.extend(burst)
                remaining -= len(burst)
                cursor = burst[-1].ended_at + timedelta(seconds=1)
            first_session = False
            remaining -= _session(rng, catalog, cumulative, cursor, min(size, remaining), plays) if remaining else 0
    plays.sort(key=lambda play: play.ended_at)
    return plays


def _session(rng: random.Random, catalog: Catalog, cumulative: list[float], cursor: datetime, size: int,
             plays: list[TruePlay]) -> int:
    device = rng.randrange(4)
    shuffle = rng.random() < 0.5
    previous: Track | None = None
    made = 0
    while made < size:
        roll = rng.random()
        if roll < 0.05:
            episode = rng.choice(catalog.episodes)
            play = _long_play(rng, "episode", episode, episode.uri, episode.duration_ms, cursor, device)
        elif roll < 0.06 and cursor >= _AUDIOBOOKS_FROM:
            chapter = rng.choice(catalog.chapters)
            play = _long_play(rng, "audiobook", chapter, chapter.uri, chapter.duration_ms, cursor, device)
        elif roll < 0.062:
            ms = rng.randint(0, 20_000)
            play = TruePlay(cursor + timedelta(milliseconds=ms), "no_content", None, None, ms, False, False,
                            "unknown", "unknown", device, False, False)
        elif previous is not None and roll < 0.07 and size - made >= 2:
            burst = _repeat_one_burst(rng, previous, cursor, min(size - made, rng.randint(2, 4)), device, shuffle)
            plays.extend(burst[:-1])
            made += len(burst) - 1
            play = burst[-1]
        else:
            repeat = previous is not None and rng.random() < 0.04
            track = previous if repeat else _weighted_track(rng, catalog, cumulative)
            play = _music_play(rng, track, cursor, device, shuffle, repeat)
            previous = track
        plays.append(play)
        made += 1
        if made < size and play.kind == "music" and rng.random() < 0.003:
            # A second device stops a different track in the very same second.
            other = _weighted_track(rng, catalog, cumulative)
            while other.name == play.item.name and other.artist == play.item.artist:
                other = _weighted_track(rng, catalog, cumulative)
            twin = _music_play(rng, other, cursor, (device + 1) % 4, shuffle, False)
            twin.ended_at = play.ended_at
            twin.ms_played = max(30_000, twin.ms_played)
            plays.append(twin)
            made += 1
        cursor = play.ended_at + timedelta(milliseconds=rng.randint(50, 3_000))
    return made


def _weighted_track(rng: random.Random, catalog: Catalog, cumulative: list[float]) -> Track:
    return catalog.tracks[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


def _music_play(rng: random.Random, track: Track, cursor: datetime, device: int, shuffle: bool, repeat: bool) -> TruePlay:
    roll = rng.random()
    if roll < 0.2:
        ms, skipped, reason_end = rng.randint(300, 29_999), True, rng.choice(_SKIP_REASONS)
    elif roll < 0.3:
        ms, skipped, reason_end = rng.randint(30_000, track.duration_ms), rng.random() < 0.6, rng.choice(_SKIP_REASONS)
    else:
        ms, skipped, reason_end = track.duration_ms, False, "trackdone"
    uri = track.single_uri if track.single_uri and rng.random() < 0.4 else track.uri
    reason_start = "trackdone" if repeat or rng.random() < 0.6 else rng.choice(["clickrow", "playbtn", "fwdbtn", "appload"])
    ended = cursor + timedelta(milliseconds=ms)
    return TruePlay(ended.replace(microsecond=ended.microsecond // 1000 * 1000), "music", track, uri, ms, skipped,
                    shuffle, reason_start, reason_end, device, rng.random() < 0.03, rng.random() < 0.01)


def _repeat_one_burst(rng: random.Random, track: Track, cursor: datetime, count: int, device: int = 0,
                      shuffle: bool = False) -> list[TruePlay]:
    """`count` plays of one track on repeat-one, each skipped after the same number of milliseconds."""
    ms = rng.randint(8_000, 19_000)
    burst = []
    for _ in range(count):
        ended = cursor + timedelta(milliseconds=ms)
        ended = ended.replace(microsecond=ended.microsecond // 1000 * 1000)
        burst.append(TruePlay(ended, "music", track, track.uri, ms, True, shuffle, "trackdone", "fwdbtn", device,
                              False, False))
        cursor = ended + timedelta(milliseconds=rng.randint(50, 400))
    return burst


def _long_play(rng: random.Random, kind: str, item, uri: str, duration: int, cursor: datetime, device: int) -> TruePlay:
    ms = duration if rng.random() < 0.5 else rng.randint(5_000, duration)
    ended = cursor + timedelta(milliseconds=ms)
    return TruePlay(ended.replace(microsecond=ended.microsecond // 1000 * 1000), kind, item, uri, ms,
                    False, False, "clickrow", "endplay" if ms < duration else "trackdone", device, False, False)
