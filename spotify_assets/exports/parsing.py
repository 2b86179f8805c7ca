"""Turning the files of an export into typed rows, one decision per record.

Files are recognised by base name (every generation in the shared format notes), never by folder.
Each record goes to exactly one place: a raw table (music, episode or audiobook), the quarantine
(with the reason and its index in the file), or the count of records without content (extended rows
with neither a track nor an episode, which the counting rules drop). Nothing is silently lost.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .members import Member
from ..raw_tables import (
    EXTENDED_AUDIOBOOKS,
    EXTENDED_EPISODES,
    EXTENDED_MUSIC,
    EXTENDED_TABLES,
    PERSONAL_FIELDS,
    STANDARD_AUDIOBOOKS,
    STANDARD_EPISODES,
    STANDARD_MUSIC,
    Column,
    RawTable,
)

_EXTENDED_NAME = re.compile(r"^(endsong|endvideo)(_\d+)?\.json$|^streaming_history_(audio|video)_.*\.json$", re.I)
_STANDARD_NAME = re.compile(r"^streaminghistory(\d+|_(music|podcast|audiobook)_\d+)\.json$", re.I)
KNOWN_EXTENDED_FIELDS = frozenset(column.name for table in EXTENDED_TABLES for column in table.columns) | PERSONAL_FIELDS
_KNOWN_STANDARD_FIELDS = frozenset(
    column.name for table in (STANDARD_MUSIC, STANDARD_EPISODES, STANDARD_AUDIOBOOKS) for column in table.columns
)
_QUARANTINED_JSON_LIMIT = 20_000
_EXTENDED_REQUIRED = tuple(column for column in EXTENDED_MUSIC.columns if column.required)


class BadValue(ValueError):
    pass


# Files of the account-data export that are arrays of records but not listening history: read, found
# not to be history, and ignored without a warning.
_KNOWN_OTHER_ARRAYS = frozenset({"searchqueries.json", "marquee.json", "follow.json", "payments.json",
                                 "customerservicehistory.json", "messagedata.json"})
# How much of a file's start is read to learn its keys: more than any real first record needs.
_SNIFF_BYTES = 64 * 1024


def file_role(member: Member, single_file_export: bool) -> str | None:
    """'extended' or 'standard' for listening history, 'unrecognised' for a JSON array of records that is not
    history we can read (reported, never silently dropped), None for the files that are not history.

    A base name of a known generation says what a file is. Any other JSON file (a browser's `endsong_0 (1).json`,
    an owner's `StreamingHistory0_NEW.json`, a `copy of ...`), and a single file given on its own whatever its
    name, is recognised by the keys of its first record."""
    name = member.base_name
    if name.startswith("._") or "__MACOSX/" in member.path:
        return None
    if _EXTENDED_NAME.match(name):
        return "extended"
    if _STANDARD_NAME.match(name):
        return "standard"
    if single_file_export or name.lower().endswith(".json"):
        keys = first_record_keys(member.content)
        if keys is None:
            return None
        if {"ts", "ms_played"} <= keys:
            return "extended"
        if {"endTime", "msPlayed"} <= keys:
            return "standard"
        return None if name.lower() in _KNOWN_OTHER_ARRAYS else "unrecognised"
    return None


def first_record_keys(content: bytes) -> frozenset[str] | None:
    """The keys of the first record when `content` starts as a JSON array of objects; None for anything else."""
    head = content[:_SNIFF_BYTES].decode("utf-8-sig", errors="ignore").lstrip()
    if not head.startswith("["):
        return None
    try:
        record, _ = json.JSONDecoder().raw_decode(head, len(head) - len(head[1:].lstrip()))
    except json.JSONDecodeError:
        return None
    return frozenset(record) if isinstance(record, dict) else None


# ---------------------------------------------------------------- values


def _to_timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise BadValue(f"expected an ISO-8601 timestamp string, got {type(value).__name__}")
    try:
        # Exports write UTC as "...Z": read without it, the time is already the naive UTC we store.
        parsed = datetime.fromisoformat(value[:-1] if value.endswith("Z") else value)
    except ValueError:
        raise BadValue(f"{value!r} is not an ISO-8601 timestamp") from None
    if value.endswith("Z") and parsed.tzinfo is not None:
        raise BadValue(f"{value!r} is not an ISO-8601 timestamp")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def _to_standard_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise BadValue(f"expected 'YYYY-MM-DD HH:MM', got {type(value).__name__}")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise BadValue(f"{value!r} is not a 'YYYY-MM-DD HH:MM' time") from None


def _to_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise BadValue(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise BadValue(f"expected an integer, got {value!r}"[:200])


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # a track called 1999 may arrive as a number
    raise BadValue(f"expected text, got {type(value).__name__}")


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadValue(f"expected true/false, got {value!r}"[:200])


_CONVERTERS = {
    "timestamp": _to_timestamp,
    "standard_time": _to_standard_time,
    "integer": _to_integer,
    "text": _to_text,
    "boolean": _to_boolean,
}


# What a well-formed export sends for each kind, taken as it is: a million records make the converter
# calls the import's largest cost. type() is exact, so True is not taken for an integer.
_NATIVE_TYPES = {"text": str, "integer": int, "boolean": bool}


def _typed_values(record: dict, columns: tuple[Column, ...]) -> list[Any]:
    values = []
    for column in columns:
        raw = record.get(column.name)
        if raw is None:
            if column.required:
                state = "is null" if column.name in record else "is missing"
                raise BadValue(f"required field '{column.name}' {state}")
            values.append(None)
            continue
        if type(raw) is _NATIVE_TYPES.get(column.kind):
            values.append(raw)
            continue
        try:
            values.append(_CONVERTERS[column.kind](raw))
        except BadValue as error:
            raise BadValue(f"field '{column.name}': {error}") from None
    return values


# ---------------------------------------------------------------- records


def _extended_table(record: dict) -> RawTable | None:
    if record.get("episode_name") is not None or record.get("spotify_episode_uri") is not None:
        return EXTENDED_EPISODES
    if record.get("audiobook_chapter_uri") is not None or record.get("audiobook_title") is not None:
        return EXTENDED_AUDIOBOOKS
    if record.get("master_metadata_track_name") is not None and record.get("master_metadata_album_artist_name") is not None:
        return EXTENDED_MUSIC
    return None


def _standard_table(record: dict) -> RawTable:
    if "podcastName" in record or "episodeName" in record:
        return STANDARD_EPISODES
    if "audiobookName" in record or "chapterName" in record:
        return STANDARD_AUDIOBOOKS
    if record.get("trackName") is None or record.get("artistName") is None:
        raise BadValue("missing fields: a record needs trackName and artistName, podcastName or audiobookName")
    return STANDARD_MUSIC


@dataclass
class ParsedFile:
    path: str
    role: str
    status: str = "parsed"  # parsed | partial | unreadable | ignored
    message: str | None = None
    rows: dict[str, list[list[Any]]] = field(default_factory=dict)  # table name -> rows
    quarantined: list[tuple[int, str, str]] = field(default_factory=list)  # (index, reason, record json)
    without_content: int = 0

    @property
    def accepted(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def _sanitised_json(record: Any) -> str:
    if isinstance(record, dict):
        record = {key: value for key, value in record.items() if key not in PERSONAL_FIELDS}
    return json.dumps(record, ensure_ascii=False, default=str)[:_QUARANTINED_JSON_LIMIT]


def parse_member(member: Member, role: str) -> ParsedFile:
    """Parse one history file. Never raises for bad content: problems go into the result."""
    parsed = ParsedFile(member.path, role)
    if role == "unrecognised":
        keys = ", ".join(sorted(first_record_keys(member.content) or ()))[:300]
        parsed.status = "unrecognised"
        parsed.message = (f"a JSON array of records that are not listening history as Spotify writes it "
                          f"(first record's keys: {keys}); not read")
        return parsed
    records, problem = _json_array(member)
    if records is None:
        parsed.status, parsed.message = "unreadable", problem
        return parsed
    if problem:
        parsed.status, parsed.message = "partial", problem
    extended = role == "extended"
    known_fields = KNOWN_EXTENDED_FIELDS if extended else _KNOWN_STANDARD_FIELDS
    seen_fields: set[str] = set()
    for index, record in enumerate(records):
        try:
            if not isinstance(record, dict):
                raise BadValue(f"record is {type(record).__name__}, expected a JSON object")
            seen_fields.update(record)
            table = _extended_table(record) if extended else _standard_table(record)
            if table is None:
                _typed_values(record, _EXTENDED_REQUIRED)  # a row without content still needs ts and ms_played
                parsed.without_content += 1
                continue
            values = _typed_values(record, table.columns)
        except BadValue as error:
            parsed.quarantined.append((index, str(error), _sanitised_json(record)))
            continue
        parsed.rows.setdefault(table.name, []).append(values + [index])
    unknown_fields = seen_fields - known_fields
    if unknown_fields:
        note = "unknown fields ignored: " + ", ".join(sorted(unknown_fields))
        parsed.message = f"{parsed.message}; {note}" if parsed.message else note
    return parsed


def _json_array(member: Member) -> tuple[list | None, str | None]:
    """The records of a JSON-array file, or (None, why not). A cut-off array keeps its complete records."""
    if member.problem and not member.content:
        return None, member.problem
    if not member.content.strip():
        return None, f"file is empty ({len(member.content)} bytes)"
    try:
        text = member.content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return None, f"not UTF-8 text (byte {error.start}): not a JSON file"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return _recover_array_prefix(text, error, member.problem)
    if not isinstance(value, list):
        return None, f"JSON is {type(value).__name__ if not isinstance(value, dict) else 'an object'}, expected an array of records"
    return value, member.problem


def _recover_array_prefix(text: str, error: json.JSONDecodeError, problem: str | None) -> tuple[list | None, str]:
    where = f"invalid JSON at line {error.lineno} column {error.colno} ({error.msg})"
    start = len(text) - len(text.lstrip())
    if not text.startswith("[", start):
        return None, f"not a JSON array: {where}"
    decoder = json.JSONDecoder()
    records: list = []
    position = start + 1
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text) or text[position] == "]":
            break
        try:
            record, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            break
        records.append(record)
    message = f"{where}; kept the {len(records)} complete records before it"
    return records, f"{problem}; {message}" if problem else message
