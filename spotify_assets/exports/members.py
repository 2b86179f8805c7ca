"""The files inside an export, whatever shape it came in: zip, unpacked folder, or one JSON file.

A zip cut short by an interrupted download has lost its central directory, so `zipfile` refuses it
whole. We then walk the local file headers instead and recover every member that is complete, and the
readable start of the one that was cut, so a truncated download still yields what it holds.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_LOCAL_HEADER = b"PK\x03\x04"
_LOCAL_HEADER_FORMAT = "<4sHHHHHIIIHH"
_LOCAL_HEADER_SIZE = struct.calcsize(_LOCAL_HEADER_FORMAT)


@dataclass(frozen=True)
class Member:
    path: str  # path inside the export, "/"-separated
    content: bytes
    problem: str | None = None  # set when only part of the file could be read

    @property
    def base_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class UnreadableExport(Exception):
    """The export as a whole could not be opened (it is kept in landing all the same)."""


def iter_members(payload: Path, kind: str) -> Iterator[Member]:
    if kind == "folder":
        for file in sorted(p for p in payload.rglob("*") if p.is_file()):
            yield Member(file.relative_to(payload).as_posix(), file.read_bytes())
    elif kind == "zip":
        yield from _iter_zip(payload)
    else:
        yield Member(payload.name, payload.read_bytes())


def _iter_zip(payload: Path) -> Iterator[Member]:
    try:
        archive = zipfile.ZipFile(payload)
    except zipfile.BadZipFile:
        yield from _salvage_zip(payload.read_bytes(), payload.name)
        return
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            try:
                yield Member(info.filename, archive.read(info))
            except (zipfile.BadZipFile, zlib.error, EOFError) as error:
                yield Member(info.filename, b"", problem=f"damaged inside the zip: {error}")


def _salvage_zip(data: bytes, name: str) -> Iterator[Member]:
    view = memoryview(data)
    position = data.find(_LOCAL_HEADER)
    if position < 0:
        raise UnreadableExport(f"{name}: not a zip archive (no zip headers found; {len(data)} bytes)")
    while position >= 0 and position + _LOCAL_HEADER_SIZE <= len(data):
        (_, _, flags, method, _, _, _, compressed_size, _, name_length, extra_length) = struct.unpack_from(
            _LOCAL_HEADER_FORMAT, data, position
        )
        name_start = position + _LOCAL_HEADER_SIZE
        encoding = "utf-8" if flags & 0x800 else "cp437"
        member_name = bytes(view[name_start : name_start + name_length]).decode(encoding, errors="replace")
        start = name_start + name_length + extra_length
        if method == 8:
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            try:
                content = inflater.decompress(view[start:])
            except zlib.error as error:
                yield Member(member_name, b"", problem=f"damaged inside the zip: {error}")
                return
            end = len(data) - len(inflater.unused_data)
            complete = inflater.eof
        elif method == 0 and not flags & 0x08:
            content = bytes(view[start : start + compressed_size])
            end = start + compressed_size
            complete = len(content) == compressed_size
        else:
            yield Member(member_name, b"", problem=f"zip truncated; cannot recover a member stored with method {method}")
            return
        if not member_name.endswith("/"):
            problem = None if complete else "zip truncated: this file was cut short; its complete records were kept"
            yield Member(member_name, content, problem)
        if not complete:
            return
        position = data.find(_LOCAL_HEADER, end)
