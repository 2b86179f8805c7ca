"""Recently-played responses in landing, and everything derived from them alone.

Each response is stored byte for byte as `<fetched ms>-<items>-<oldest played ms>-<newest played ms>.json`.
The name carries what the pipeline needs without opening files: the cursor for the next poll (the
newest play landed), the UTC days a response covers (to rebuild one day partition), and the gaps
(a full page entirely newer than the previous cursor means plays were lost). No other state exists,
so none can be lost.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

PAGE_SIZE = 50  # the most Spotify returns, and all it keeps
RESPONSES_FOLDER = "recently_played"  # in each listener's landing
_NAME_FIELDS = 4


def played_at_ms(value: str) -> int:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def utc_day(epoch_ms: int) -> date:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc).date()


@dataclass(frozen=True)
class LandedResponse:
    path: Path
    fetched_at_ms: int
    items: int
    oldest_ms: int  # 0 when the response had no items
    newest_ms: int

    @classmethod
    def from_path(cls, path: Path) -> "LandedResponse | None":
        parts = path.stem.split("-")
        if path.suffix != ".json" or len(parts) != _NAME_FIELDS or not all(p.isdigit() for p in parts):
            return None
        fetched, items, oldest, newest = (int(p) for p in parts)
        return cls(path, fetched, items, oldest, newest)

    def covers(self, day: date) -> bool:
        return self.items > 0 and utc_day(self.oldest_ms) <= day <= utc_day(self.newest_ms)

    @property
    def days(self) -> list[date]:
        if not self.items:
            return []
        first, last = utc_day(self.oldest_ms), utc_day(self.newest_ms)
        return [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]


class MalformedResponse(ValueError):
    pass


def land_response(directory: Path, fetched_at_ms: int, body: bytes) -> LandedResponse:
    """Store one response unchanged; its name summarises it. Refuses bodies without an items list."""
    try:
        items = json.loads(body)["items"]
        stamps = [played_at_ms(item["played_at"]) for item in items]
    except (ValueError, KeyError, TypeError) as error:
        raise MalformedResponse(f"recently-played answer without readable items ({type(error).__name__})") from None
    name = f"{fetched_at_ms}-{len(stamps)}-{min(stamps, default=0)}-{max(stamps, default=0)}.json"
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".incoming-")
    with os.fdopen(handle, "wb") as file:
        file.write(body)
    os.replace(temporary, directory / name)
    return LandedResponse.from_path(directory / name)


def landed_responses(directory: Path) -> list[LandedResponse]:
    if not directory.exists():
        return []
    found = (LandedResponse.from_path(p) for p in directory.iterdir())
    return sorted((r for r in found if r is not None), key=lambda r: r.fetched_at_ms)


def cursor_ms(responses: list[LandedResponse]) -> int | None:
    """The newest play landed so far: the next poll asks for plays after it."""
    newest = [r.newest_ms for r in responses if r.items]
    return max(newest) if newest else None


@dataclass(frozen=True)
class Gap:
    after_ms: int  # the newest play known before the poll
    before_ms: int  # the oldest play of the full page that followed
    detected_at_ms: int

    def describe(self) -> str:
        def fmt(ms: int) -> str:
            return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")

        return f"plays between {fmt(self.after_ms)} and {fmt(self.before_ms)} were probably lost"


def gaps(responses: list[LandedResponse]) -> list[Gap]:
    """Polls that returned a full page entirely newer than the cursor before them."""
    found, cursor = [], None
    for response in responses:
        if cursor is not None and response.items >= PAGE_SIZE and response.oldest_ms > cursor:
            found.append(Gap(cursor, response.oldest_ms, response.fetched_at_ms))
        if response.items:
            cursor = max(cursor or 0, response.newest_ms)
    return found
