"""Turning the files of an export into typed rows, one decision per record.

Files are recognised by base name (every generation docs/sources.md lists under "Privacy exports"), or, renamed,
by the keys of their first record; never by folder.
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

from spotify_assets.lib.exports.members import Member
from spotify_assets.lib.raw_tables import (
    EXTENDED_MUSIC,
    EXTENDED_TABLE_RULES,
    EXTENDED_TABLES,
    FIRST_PLAUSIBLE_YEAR,
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


def named_like_history(path: str) -> bool:
    """A name history could have (a JSON file, or a generation's name): one that cannot be read is a problem."""
    name = path.rsplit("/", 1)[-1]
    return bool(_EXTENDED_NAME.match(name) or _STANDARD_NAME.match(name)) or name.lower().endswith(".json")


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


def _utc(value: str, parsed: datetime) -> datetime:
    """The naive UTC time the warehouse stores; an offset the value carries is applied."""
    if parsed.tzinfo is None:
        return parsed
    try:
        return parsed.astimezone(timezone.utc).replace(tzinfo=None)
    except OverflowError:  # 0001-01-01T00:30:00+01:00 lies before the first representable moment
        raise BadValue(f"{value!r} is out of range") from None


def _to_timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise BadValue(f"expected an ISO-8601 timestamp string, got {type(value).__name__}")
    try:
        # Exports write UTC as "...Z": read without it, the time is already the naive UTC we store.
        parsed = datetime.fromisoformat(value[:-1] if value.endswith("Z") else value)
    except ValueError:
        raise BadValue(f"{value[:100]!r} is not an ISO-8601 timestamp") from None
    if value.endswith("Z") and parsed.tzinfo is not None:
        raise BadValue(f"{value[:100]!r} is not an ISO-8601 timestamp")
    return _utc(value, parsed)


def _to_standard_time(value: Any) -> datetime:
    """endTime is 'YYYY-MM-DD HH:MM' in UTC; a value with an offset (or Z) is converted to UTC."""
    if not isinstance(value, str):
        raise BadValue(f"expected 'YYYY-MM-DD HH:MM', got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise BadValue(f"{value[:100]!r} is not a 'YYYY-MM-DD HH:MM' time") from None
    return _utc(value, parsed)


_ASCII_INTEGER = re.compile(r"\s*-?[0-9]{1,19}\s*")


def _to_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise BadValue(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _ASCII_INTEGER.fullmatch(value):  # not "--5", not "²"
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


def _check_plausible(column: Column, value: Any, check_text: bool) -> None:
    """Values a play cannot have (or DuckDB cannot store) are quarantined, never imported nor fatal."""
    if column.kind == "integer":
        low, high = column.limits
        if not low <= value <= high:
            raise BadValue(f"field '{column.name}': {value!r} is outside {low:,}..{high:,}"[:200])
    elif column.kind in ("timestamp", "standard_time"):
        if not FIRST_PLAUSIBLE_YEAR <= value.year <= datetime.now().year + 1:
            raise BadValue(f"field '{column.name}': {value.isoformat()} is not a plausible time of a play")
    elif check_text and column.kind == "text":
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise BadValue(f"field '{column.name}': not valid Unicode text ({error.reason} at character "
                           f"{error.start})") from None


def _typed_values(record: dict, columns: tuple[Column, ...], check_text: bool = False) -> list[Any]:
    """`check_text`: the file can hold strings that are not valid Unicode (lone surrogates, bytes that were not
    UTF-8), so every text value is checked; otherwise only numbers and times are."""
    values = []
    for column in columns:
        raw = record.get(column.name)
        if raw is None:
            if column.required:
                state = "is null" if column.name in record else "is missing"
                raise BadValue(f"required field '{column.name}' {state}")
            values.append(None)
            continue
        if type(raw) is not _NATIVE_TYPES.get(column.kind):
            try:
                raw = _CONVERTERS[column.kind](raw)
            except BadValue as error:
                raise BadValue(f"field '{column.name}': {error}") from None
        if column.kind != "text" or check_text:
            _check_plausible(column, raw, check_text)
        values.append(raw)
    return values


# ---------------------------------------------------------------- records


def _extended_table(record: dict) -> RawTable | None:
    for table, quantifier, fields in EXTENDED_TABLE_RULES:
        filled = [record.get(field) is not None for field in fields]
        if any(filled) if quantifier == "any" else all(filled):
            return table
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

    @property
    def records(self) -> int:
        """Every record read: each went to exactly one place."""
        return self.accepted + len(self.quarantined) + self.without_content


@dataclass(frozen=True)
class _BrokenRecord:
    """A record that is not valid JSON, between records that are: quarantined as its text, the rest goes on."""

    reason: str
    text: str


def _sanitised_json(record: Any) -> str:
    if isinstance(record, _BrokenRecord):
        text = record.text
    else:
        if isinstance(record, dict):
            record = {key: value for key, value in record.items() if key not in PERSONAL_FIELDS}
        text = json.dumps(record, ensure_ascii=False, default=str)
    # Text that is not valid Unicode (a lone surrogate, a byte that was not UTF-8) is kept as escapes.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:_QUARANTINED_JSON_LIMIT]


def parse_member(member: Member, role: str, first_index: int = 0, first_line: int = 1) -> ParsedFile:
    """Parse one history file, or one piece of a large one (pieces.py) whose first record is the file's
    `first_index`th and starts on its line `first_line`. Never raises for bad content: problems go into the result."""
    parsed = ParsedFile(member.path, role)
    if role == "unrecognised":
        keys = ", ".join(sorted(first_record_keys(member.content) or ()))[:300]
        parsed.status = "unrecognised"
        parsed.message = (f"a JSON array of records that are not listening history as Spotify writes it "
                          f"(first record's keys: {keys}); not read")
        return parsed
    records, problem, check_text = _json_array(member, first_line - 1)
    if records is None:
        parsed.status, parsed.message = "unreadable", problem
        return parsed
    if problem:
        parsed.status, parsed.message = "partial", problem
    extended = role == "extended"
    known_fields = KNOWN_EXTENDED_FIELDS if extended else _KNOWN_STANDARD_FIELDS
    seen_fields: set[str] = set()
    for index, record in enumerate(records, start=first_index):
        try:
            if isinstance(record, _BrokenRecord):
                raise BadValue(record.reason)
            if not isinstance(record, dict):
                raise BadValue(f"record is {type(record).__name__}, expected a JSON object")
            seen_fields.update(record)
            table = _extended_table(record) if extended else _standard_table(record)
            if table is None:
                # A row without content still needs ts and ms_played.
                _typed_values(record, _EXTENDED_REQUIRED, check_text)
                parsed.without_content += 1
                continue
            values = _typed_values(record, table.columns, check_text)
        except BadValue as error:
            parsed.quarantined.append((index, str(error), _sanitised_json(record)))
            continue
        parsed.rows.setdefault(table.name, []).append(values + [index])
    unknown_fields = seen_fields - known_fields
    if unknown_fields:
        note = "unknown fields ignored: " + ", ".join(sorted(unknown_fields))
        parsed.message = f"{parsed.message}; {note}" if parsed.message else note
    return parsed


# A JSON escape of a UTF-16 surrogate: json.loads makes a lone one into a string no database stores.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_NEXT_RECORD = re.compile(r"\}\s*,\s*(?=\{)")


def _json_array(member: Member, lines_before: int = 0) -> tuple[list | None, str | None, bool]:
    """(records, what went wrong, whether text values need checking); records None when the file is unreadable.
    A cut-off array keeps its complete records; a broken record in the middle is kept as a _BrokenRecord."""
    if member.problem and not member.content:
        return None, member.problem, False
    if not member.content.strip():
        return None, f"file is empty ({len(member.content)} bytes)", False
    problem = member.problem
    try:
        text = member.content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        # Bytes that are not UTF-8 stay in the text as lone surrogates: the records holding them are quarantined.
        text = member.content.decode("utf-8-sig", "surrogateescape")
        note = f"not UTF-8 at byte {error.start}: records holding such bytes are quarantined"
        problem = f"{problem}; {note}" if problem else note
    check_text = problem is not None and "not UTF-8" in problem or _SURROGATE_ESCAPE.search(text) is not None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        records, problem = _recover_records(text, error, problem, lines_before)
        return records, problem, check_text
    if not isinstance(value, list):
        kind = type(value).__name__ if not isinstance(value, dict) else "an object"
        return None, f"JSON is {kind}, expected an array of records", False
    return value, problem, check_text


def _recover_records(text: str, error: json.JSONDecodeError, problem: str | None,
                     lines_before: int = 0) -> tuple[list | None, str | None]:
    """The records of an array that is not valid JSON as a whole: a record that does not parse is kept as a
    _BrokenRecord when more records follow it, and ends the array when none do (a file cut short)."""
    where = f"invalid JSON at line {error.lineno + lines_before} column {error.colno} ({error.msg})"
    start = len(text) - len(text.lstrip())
    if not text.startswith("[", start):
        return None, f"not a JSON array: {where}"
    decoder = json.JSONDecoder()
    records: list = []
    broken = 0
    position = start + 1
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text):
            return records, _joined(problem, f"cut short: the array of records has no closing ']' (a download or a "
                                             f"copy that stopped?); kept the {len(records)} complete records"
                                             + (f"; {broken} broken records quarantined" if broken else ""))
        if text[position] == "]":
            return records, _joined(problem, f"{where}; {broken} broken records quarantined" if broken else None)
        try:
            record, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as record_error:
            following = _NEXT_RECORD.search(text, position)
            if following is None:  # nothing after it: the file was cut short here
                message = f"cut short in a record: {where}; kept the {len(records)} complete records before it"
                return records, _joined(problem, message)
            line = text.count("\n", 0, record_error.pos) + 1 + lines_before
            records.append(_BrokenRecord(f"not valid JSON at line {line} ({record_error.msg})",
                                         text[position:following.start() + 1]))
            broken += 1
            position = following.end()
            continue
        records.append(record)


def _joined(problem: str | None, message: str | None) -> str | None:
    return "; ".join(part for part in (problem, message) if part) or None
