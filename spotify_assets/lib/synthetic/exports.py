"""Rendering the ground truth as the exports Spotify would have sent, generation by generation.

The default set is four overlapping exports, as a long-time listener accumulates them:
an older extended export (`MyData/endsong_N.json`, old key set with username/IP/user agent, its last file
named as a browser names a second download, `endsong_N (1).json`), a newer one covering almost everything (`Spotify Extended
Streaming History/Streaming_History_Audio_…`, new key set with `ip_addr` and audiobooks), the last year's
account-data export (`StreamingHistory_music_N`, podcasts, audiobooks, with decomposed Unicode and stray spaces
in names), and an older account-data export unpacked into a folder (legacy naming: `StreamingHistory0.json`
and its owner's `StreamingHistory0_NEW.json`, which overlap by a few days; podcast episodes mixed in among the
songs, the show as `artistName`). Extended files carry a few glitch copies of a record right after it, as real
ones do; repeat-one bursts make identical account-data rows.
"""

from __future__ import annotations

import csv
import gzip
import json
import random
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from spotify_assets.lib.synthetic.catalog import Catalog
from spotify_assets.lib.synthetic.history import TruePlay, generate_plays

_RECORDS_PER_FILE = 16_000
_LONG_PLATFORMS = ["Android OS 10 API 29 (Google, Pixel 3)", "Windows 10 (10.0.19041; x64)",
                   "web_player windows 10;chrome 96.0.4664.110;desktop", "iOS 15.1 (iPhone12,1)"]
_SHORT_PLATFORMS = ["android", "windows", "ios", "linux"]
_SHORT_PLATFORMS_FROM = datetime(2023, 10, 1)
_FAKE_PDF = b"%PDF-1.4\n% ReadMeFirst: synthetic placeholder\n%%EOF\n"
_GLITCH_COPY_SHARE = 0.002


@dataclass(frozen=True)
class ExportSpec:
    name: str  # file or folder name in the inbox
    source: str  # "extended" or "standard"
    generation: str  # extended: "endsong" | "streaming_history"; standard: "legacy" | "split"
    window_start: datetime  # UTC, inclusive
    window_end: datetime  # UTC, exclusive
    as_folder: bool = False


@dataclass
class WrittenExport:
    spec: ExportSpec
    path: Path
    raw_rows: Counter = field(default_factory=Counter)  # raw table name -> records written
    without_content: int = 0
    # The plays (by id) whose extended record went out without its skip flag (`"skipped": null`, as older exports
    # often have it): the warehouse knows such a play's skip only from its reason_end (counting rules, section 9).
    skip_flag_missing: set[int] = field(default_factory=set)


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _json_array(records: list[dict]) -> bytes:
    # json.dumps with indent= falls back to the slow pure-Python encoder; lay out one record per line.
    return ("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n]\n").encode()


def platform_of(play: TruePlay) -> str:
    """The `platform` an extended export gives the play: long device descriptions before late 2023, short names since."""
    platforms = _SHORT_PLATFORMS if play.ended_at >= _SHORT_PLATFORMS_FROM else _LONG_PLATFORMS
    return platforms[play.device]


def _extended_record(play: TruePlay, new_keys: bool, rng: random.Random) -> tuple[str, dict]:
    """(raw table the record lands in, the record as the export carries it)."""
    record: dict = {"ts": _ts(play.ended_at)}
    if not new_keys:
        record["username"] = "synthetic-listener"
    record |= {"platform": platform_of(play), "ms_played": play.ms_played, "conn_country": "DE"}
    if new_keys:
        record["ip_addr"] = "192.0.2.%d" % (10 + play.device)
    else:
        record["ip_addr_decrypted"] = "198.51.100.%d" % (10 + play.device)
        record["user_agent_decrypted"] = "unknown"
    music = play.kind == "music"
    record |= {
        "master_metadata_track_name": play.item.name if music else None,
        "master_metadata_album_artist_name": play.item.artist if music else None,
        "master_metadata_album_album_name": (play.item.album if play.uri == play.item.uri else f"{play.item.name} - Single") if music else None,
        "spotify_track_uri": play.uri if music else None,
        "episode_name": play.item.name if play.kind == "episode" else None,
        "episode_show_name": play.item.show if play.kind == "episode" else None,
        "spotify_episode_uri": play.uri if play.kind == "episode" else None,
    }
    if new_keys:
        chapter = play.kind == "audiobook"
        record |= {
            "audiobook_title": play.item.book if chapter else None,
            "audiobook_uri": play.item.book_uri if chapter else None,
            "audiobook_chapter_uri": play.uri if chapter else None,
            "audiobook_chapter_title": play.item.title if chapter else None,
        }
    offline_ts = None
    if play.offline:
        seconds = int(play.ended_at.timestamp()) - play.ms_played // 1000
        offline_ts = seconds * 1000 if new_keys else seconds  # the unit changed over the years
    record |= {
        "reason_start": play.reason_start, "reason_end": play.reason_end, "shuffle": play.shuffle,
        # Older rows often carry null (or always-false) skip flags.
        "skipped": play.skipped if new_keys or rng.random() < 0.5 else None,
        "offline": play.offline, "offline_timestamp": offline_ts, "incognito_mode": play.incognito,
    }
    table = {"music": "extended_music_streams", "episode": "extended_episode_streams",
             "audiobook": "extended_audiobook_streams"}.get(play.kind)
    return table, record


def _variant_spelling(name: str, rng: random.Random) -> str:
    """The account-data export sometimes spells names decomposed (NFD) or with a stray space."""
    if not name.isascii() and rng.random() < 0.5:
        return unicodedata.normalize("NFD", name)
    if rng.random() < 0.01:
        return name + " "
    return name


def _standard_record(play: TruePlay, rng: random.Random) -> tuple[str | None, dict]:
    end = _minute(play.ended_at)
    if play.kind == "music":
        return "standard_music_streams", {"endTime": end, "artistName": _variant_spelling(play.item.artist, rng),
                                          "trackName": _variant_spelling(play.item.name, rng), "msPlayed": play.ms_played}
    if play.kind == "episode":
        return "standard_episode_streams", {"endTime": end, "podcastName": play.item.show,
                                            "episodeName": play.item.name, "msPlayed": play.ms_played}
    if play.kind == "audiobook":
        return "standard_audiobook_streams", {"endTime": end, "audiobookName": play.item.book,
                                              "authorName": play.item.author, "msPlayed": play.ms_played}
    return None, {}


def _legacy_record(play: TruePlay, rng: random.Random) -> tuple[str, dict]:
    if play.kind == "episode":
        return "standard_music_streams", {"endTime": _minute(play.ended_at), "artistName": play.item.show,
                                          "trackName": play.item.name, "msPlayed": play.ms_played}
    return _standard_record(play, rng)


def _split_by_minute(rows: list[tuple[str, dict]], overlap_days: int = 3) -> tuple[list, list]:
    """Two files, the second starting mid-way and repeating the first's last days (an owner's renamed copy).
    They split at a minute: identical rows of one minute stay in one file, where they count as repeats."""
    if not rows:
        return [], []
    middle = datetime.fromisoformat(rows[len(rows) // 2][1]["endTime"])
    overlap_from = _minute(middle - timedelta(days=overlap_days))
    return ([row for row in rows if row[1]["endTime"] < _minute(middle)],
            [row for row in rows if row[1]["endTime"] >= overlap_from])


def _chunks(records: list, size: int = _RECORDS_PER_FILE) -> list[list]:
    return [records[i : i + size] for i in range(0, len(records), size)] or [[]]


def _year_span(plays: list[TruePlay]) -> str:
    if not plays:
        return "0000"
    first, last = plays[0].ended_at.year, plays[-1].ended_at.year
    return str(first) if first == last else f"{first}-{last}"


def render_export(spec: ExportSpec, plays: list[TruePlay], rng: random.Random) -> tuple[dict[str, bytes], WrittenExport]:
    """The files of one export (path inside it -> bytes) and what they should land as."""
    chosen = [p for p in plays if spec.window_start <= p.ended_at < spec.window_end]
    written = WrittenExport(spec, Path(spec.name))
    files: dict[str, bytes] = {}
    if spec.source == "extended":
        new_keys = spec.generation == "streaming_history"
        top = "Spotify Extended Streaming History" if new_keys else "MyData"
        audio = [p for p in chosen if not (p.kind == "episode" and p.item.video)]
        video = [p for p in chosen if p.kind == "episode" and p.item.video]
        if not new_keys:
            audio = [p for p in audio if p.kind != "audiobook"]  # older exports predate audiobooks
        groups = []
        # The older export comes in at least two files, so its last one can be the browser's renamed copy.
        size = _RECORDS_PER_FILE if new_keys else max(1, min(_RECORDS_PER_FILE, (len(audio) + 1) // 2))
        for index, chunk in enumerate(_chunks(audio, size)):
            name = f"Streaming_History_Audio_{_year_span(chunk)}_{index}.json" if new_keys else f"endsong_{index}.json"
            groups.append((name, chunk))
        groups.append((f"Streaming_History_Video_{_year_span(video)}.json" if new_keys else "endvideo.json", video))
        if not new_keys and len(groups) > 2:  # the last audio file as a browser names a second download
            groups[-2] = (groups[-2][0].replace(".json", " (1).json"), groups[-2][1])
        for name, chunk in groups:
            records = []
            for play in chunk:
                table, record = _extended_record(play, new_keys, rng)
                if record["skipped"] is None:
                    written.skip_flag_missing.add(id(play))
                # A glitch copy: the same record twice in one file (only of plays long enough that two cannot
                # end in the same second, so the counting rules make them one play).
                copies = 2 if play.ms_played >= 1000 and rng.random() < _GLITCH_COPY_SHARE else 1
                records.extend([record] * copies)
                if table:
                    written.raw_rows[table] += copies
                else:
                    written.without_content += copies
            files[f"{top}/{name}"] = _json_array(records)
        files[f"{top}/ReadMeFirst_ExtendedStreamingHistory.pdf"] = _FAKE_PDF
    else:
        top = "Spotify Account Data"
        by_file: dict[str, list[dict]] = {}
        if spec.generation == "legacy":
            # Before 2023 podcast episodes sat among the songs: the show as artistName, the episode as trackName.
            rows = [_legacy_record(p, rng) for p in chosen if p.kind in ("music", "episode")]
            older, newer = _split_by_minute(rows)
            by_file["StreamingHistory0.json"] = older
            by_file["StreamingHistory0_NEW.json"] = newer
        else:
            rendered = [_standard_record(p, rng) for p in chosen]
            for kind in ("music", "podcast", "audiobook"):
                table = {"music": "standard_music_streams", "podcast": "standard_episode_streams",
                         "audiobook": "standard_audiobook_streams"}[kind]
                for index, chunk in enumerate(_chunks([r for r in rendered if r[0] == table], 10_000)):
                    by_file[f"StreamingHistory_{kind}_{index}.json"] = chunk
        for name, chunk in by_file.items():
            for table, _ in chunk:
                written.raw_rows[table] += 1
            files[f"{top}/{name}"] = _json_array([record for _, record in chunk])
        # Account data holds more than listening history; these must be listed and ignored.
        files[f"{top}/Userdata.json"] = json.dumps({"username": "synthetic-listener", "country": "DE"}).encode()
        files[f"{top}/Playlist1.json"] = json.dumps({"playlists": [{"name": "Favourites", "items": []}]}).encode()
        files[f"{top}/YourLibrary.json"] = json.dumps({"tracks": [], "albums": []}).encode()
    return files, written


def write_export(spec: ExportSpec, files: dict[str, bytes], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    if spec.as_folder:
        target = directory / spec.name
        for inner, content in files.items():
            path = target / inner
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        return target
    target = directory / spec.name
    # Fixed member timestamps keep the zip bytes, and so its content hash, deterministic.
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for inner, content in files.items():
            info = zipfile.ZipInfo(inner, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return target


def default_export_specs(first: datetime, last: datetime) -> list[ExportSpec]:
    span = last - first
    older_end = first + span * 0.45
    legacy_start = first + span * 0.3
    return [
        ExportSpec(f"my_spotify_data_{older_end.year}.zip", "extended", "endsong", first, older_end),
        ExportSpec("my_spotify_data.zip", "extended", "streaming_history", first, last - timedelta(days=14)),
        ExportSpec("my_spotify_data (1).zip", "standard", "split", last - timedelta(days=365), last),
        ExportSpec(f"Spotify Account Data {legacy_start.year}", "standard", "legacy", legacy_start,
                   legacy_start + timedelta(days=200), as_folder=True),
    ]


@dataclass
class SyntheticHistory:
    plays: list[TruePlay]
    first_day: date
    last_day: date
    listener_timezone: str
    seed: int
    exports: list[WrittenExport] = field(default_factory=list)

    @classmethod
    def generate(cls, plays: int = 20_000, seed: int = 42, listener_timezone: str = "Europe/Berlin",
                 last_day: date = date(2025, 10, 31)) -> "SyntheticHistory":
        """`plays` true plays (music, episodes, audiobooks, rows without metadata) over 2-15 years."""
        if not 1_000 <= plays <= 2_000_000:
            raise ValueError("plays must be between 1,000 and 2,000,000")
        rng = random.Random(seed)
        years = min(15, max(2, plays // (40 * 365)))
        first_day = last_day - timedelta(days=365 * years)
        catalog = Catalog.build(rng, artist_count=max(40, min(6_000, plays // 60)))
        true_plays = generate_plays(rng, catalog, first_day, last_day, plays, ZoneInfo(listener_timezone))
        return cls(true_plays, first_day, last_day, listener_timezone, seed)

    @property
    def time_range(self) -> tuple[datetime, datetime]:
        """UTC bounds that hold every play, with the listener's zone offset to spare."""
        return (datetime.combine(self.first_day, datetime.min.time()) - timedelta(days=1),
                datetime.combine(self.last_day, datetime.min.time()) + timedelta(days=2))

    def write_exports(self, directory: Path, specs: list[ExportSpec] | None = None) -> list[WrittenExport]:
        specs = specs if specs is not None else default_export_specs(*self.time_range)
        rng = random.Random(self.seed + 1)
        for spec in specs:
            files, written = render_export(spec, self.plays, rng)
            written.path = write_export(spec, files, Path(directory))
            self.exports.append(written)
        return self.exports

    def sources_of(self, play: TruePlay) -> set[str]:
        return {e.spec.source for e in self.exports if e.spec.window_start <= play.ended_at < e.spec.window_end
                and not (e.spec.source == "standard" and play.kind == "no_content")
                and not (e.spec.generation == "legacy" and play.kind not in ("music", "episode"))
                and not (e.spec.generation == "endsong" and play.kind == "audiobook")}

    def write_ground_truth(self, path: Path) -> Path:
        """Every true play once, as gzipped CSV, with the sources that carry it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["ended_at_utc", "kind", "artist_name", "track_name", "album_name", "uri",
                             "show_or_book", "episode_or_chapter", "ms_played", "skipped", "sources"])
            for play in self.plays:
                item = play.item
                writer.writerow([
                    play.ended_at.isoformat(timespec="milliseconds"), play.kind,
                    item.artist if play.kind == "music" else "", item.name if play.kind == "music" else "",
                    item.album if play.kind == "music" else "", play.uri or "",
                    getattr(item, "show", "") or getattr(item, "book", ""),
                    (item.name if play.kind == "episode" else getattr(item, "title", "")) if item else "",
                    play.ms_played, play.skipped, "+".join(sorted(self.sources_of(play))),
                ])
        return path
