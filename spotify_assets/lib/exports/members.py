"""The files inside an export, whatever shape it came in: zip (nested zips too), unpacked folder, or one JSON file.

Entries are listed first and read only when wanted: a file that is not history costs the first 64 KB that say so,
never its whole size, and no entry is read into memory beyond `MAX_MEMBER_BYTES` whatever its header claims (a zip of
zeros stays a few megabytes of memory); a history file larger than that is streamed (`Entry.open`, pieces.py). An entry that cannot be read (encrypted, an unknown compression method, damaged)
is reported as such and the others are read.

A zip cut short by an interrupted download has lost its central directory, so `zipfile` refuses it whole. We then
walk the local file headers instead and recover every member that is complete, and the readable start of the one
that was cut, so a truncated download still yields what it holds.
"""

from __future__ import annotations

import mmap
import os
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_LOCAL_HEADER = b"PK\x03\x04"
_LOCAL_HEADER_FORMAT = "<4sHHHHHIIIHH"
_LOCAL_HEADER_SIZE = struct.calcsize(_LOCAL_HEADER_FORMAT)
# Spotify's history files are about 12 MB each; a member past this is not one of them (or a zip bomb).
MAX_MEMBER_BYTES = 128 * 1024 * 1024
# What recognising a file by its keys needs to read of it.
HEAD_BYTES = 64 * 1024
# Zips inside zips are opened this deep (an export zipped once more, a folder of exports zipped).
MAX_NESTING = 2
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Member:
    path: str  # path inside the export, "/"-separated
    content: bytes
    problem: str | None = None  # set when only part of the file could be read
    too_large: bool = False  # larger than MAX_MEMBER_BYTES: not read into memory (stream it with Entry.open)

    @property
    def base_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Entry:
    """A file of an export, not read yet. `reader(limit)` returns at most `limit` bytes of it, from the start."""

    path: str
    reader: Callable[[int], bytes] | None
    problem: str | None = None  # why it cannot be read (then reader is None), or why only part of it was
    opener: Callable[[], BinaryIO] | None = None  # the whole file as a stream (not for members of a cut-off zip)
    size: int | None = None  # its size as the file system or the zip's directory gives it (a zip may lie)

    def head(self) -> Member:
        """Its first bytes: enough to tell what the file is. A member so small that this reads all of it is checked
        against its CRC here already: a damaged one comes back empty, saying so."""
        if self.reader is None:
            return Member(self.path, b"", self.problem)
        try:
            return Member(self.path, self.reader(HEAD_BYTES), self.problem)
        except _DAMAGED as error:
            return Member(self.path, b"", _damaged(error))

    def read(self) -> Member:
        if self.reader is None:
            return Member(self.path, b"", self.problem)
        try:
            content = self.reader(MAX_MEMBER_BYTES + 1)
        except _DAMAGED as error:
            return Member(self.path, b"", _damaged(error))
        if len(content) > MAX_MEMBER_BYTES:
            return Member(self.path, b"", f"larger than {MAX_MEMBER_BYTES // 2**20} MB uncompressed, and cannot be "
                                          "streamed: not read", too_large=True)
        return Member(self.path, content, self.problem)


# What reading a damaged member raises: a bad CRC, a broken deflate stream, a member cut short, an I/O error.
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError)


def _damaged(error: Exception) -> str:
    return f"damaged inside the zip ({error}): not read; the export's other files are"


class UnreadableExport(Exception):
    """The export as a whole could not be opened (it is kept in landing all the same)."""


def iter_entries(payload: Path, kind: str) -> Iterator[Entry]:
    with ExitStack() as resources:
        if kind == "folder":
            yield from _folder_entries(payload)
        elif kind == "zip":
            yield from _zip_entries(payload, payload.name, "", 0, resources)
        else:
            yield _file_entry(payload.name, payload)


def _file_entry(name: str, path: Path) -> Entry:
    def read(limit: int) -> bytes:
        with path.open("rb") as handle:
            return handle.read(limit)
    return Entry(name, read, opener=lambda: path.open("rb"), size=path.stat().st_size)


def _folder_entries(folder: Path) -> Iterator[Entry]:
    """Regular files only, never through a symbolic link: a folder export holds what is inside it."""
    for directory, subdirectories, names in os.walk(folder):  # os.walk does not follow linked directories
        subdirectories.sort()
        for name in sorted(names + [d for d in subdirectories if (Path(directory) / d).is_symlink()]):
            path = Path(directory) / name
            relative = path.relative_to(folder).as_posix()
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                yield Entry(relative, None, "a symbolic link: not followed")
            elif not stat.S_ISREG(mode):
                yield Entry(relative, None, "not a regular file (a pipe, a device or a socket): not read")
            else:
                yield _file_entry(relative, path)


def _zip_entries(archive_path: Path, name: str, prefix: str, depth: int, resources: ExitStack) -> Iterator[Entry]:
    try:
        archive = resources.enter_context(zipfile.ZipFile(archive_path))
        infos = archive.infolist()
    except (zipfile.BadZipFile, UnicodeDecodeError, OSError, ValueError, struct.error):
        # No central directory (a download cut short), or one that does not decode: walk the local headers.
        yield from _salvaged_entries(archive_path, name, prefix, resources)
        return
    seen: dict[str, int] = {}
    for info in infos:
        if info.is_dir():
            continue
        path = _unique(prefix + info.filename, seen)
        if info.flag_bits & 0x1:
            yield Entry(path, None, "encrypted inside the zip (a password-protected member): not read")
        elif info.compress_type not in _SUPPORTED_METHODS:
            yield Entry(path, None, f"compressed with method {info.compress_type}, which this reader does not know: "
                                    "not read")
        elif info.filename.lower().endswith(".zip"):
            yield from _nested_entries(path, lambda limit, info=info: _read_zip_member(archive, info, limit), depth,
                                       resources)
        else:
            yield Entry(path, lambda limit, info=info: _read_zip_member(archive, info, limit),
                        opener=lambda info=info: archive.open(info), size=info.file_size)


_SUPPORTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


def _unique(path: str, seen: dict[str, int]) -> str:
    """Two members may carry one name; each keeps its own (the second as `endsong_0 (2nd member of that name).json`),
    so the records of both are kept apart and a record's identity never repeats."""
    seen[path] = seen.get(path, 0) + 1
    count = seen[path]
    if count == 1:
        return path
    stem, dot, extension = path.rpartition(".")
    if not dot or "/" in extension:
        stem, extension = path, ""
    return f"{stem} ({count}{_ordinal(count)} member of that name){dot if extension else ''}{extension}"


def _ordinal(number: int) -> str:
    return "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")


def _read_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """At most `limit` bytes, decompressed as they stream: never more in memory, whatever the member claims."""
    with archive.open(info) as handle:
        return handle.read(limit)


def _nested_entries(path: str, reader: Callable[[int], bytes], depth: int, resources: ExitStack) -> Iterator[Entry]:
    if depth + 1 > MAX_NESTING:
        yield Entry(path, None, f"a zip inside {MAX_NESTING} zips: not opened")
        return
    try:
        content = reader(MAX_MEMBER_BYTES + 1)
    except _DAMAGED as error:
        yield Entry(path, None, _damaged(error))
        return
    if len(content) > MAX_MEMBER_BYTES:
        yield Entry(path, None, f"a zip larger than {MAX_MEMBER_BYTES // 2**20} MB inside the export: not opened")
        return
    scratch = Path(resources.enter_context(tempfile.TemporaryDirectory(prefix="spotify-nested-")))
    inner = scratch / "nested.zip"
    inner.write_bytes(content)
    del content
    yield from _zip_entries(inner, path, path + "/", depth + 1, resources)


def _salvaged_entries(archive_path: Path, name: str, prefix: str, resources: ExitStack) -> Iterator[Entry]:
    size = archive_path.stat().st_size
    if size == 0:
        raise UnreadableExport(f"{name}: not a zip archive (an empty file)")
    with archive_path.open("rb") as handle:
        data = resources.enter_context(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
    position = data.find(_LOCAL_HEADER)
    if position < 0:
        raise UnreadableExport(f"{name}: not a zip archive (no zip headers found; {size} bytes)")
    seen: dict[str, int] = {}
    while position >= 0 and position + _LOCAL_HEADER_SIZE <= len(data):
        (_, _, flags, method, _, _, _, compressed_size, _, name_length, extra_length) = struct.unpack_from(
            _LOCAL_HEADER_FORMAT, data, position)
        name_start = position + _LOCAL_HEADER_SIZE
        encoding = "utf-8" if flags & 0x800 else "cp437"
        member_name = data[name_start : name_start + name_length].decode(encoding, errors="replace")
        start = name_start + name_length + extra_length
        path = _unique(prefix + member_name, seen) if not member_name.endswith("/") else None
        if (flags & 0x1 or method not in (0, 8)) and not flags & 0x08:  # of a known length: skipped, said why
            end = start + compressed_size
            complete = end <= len(data)
            if path:
                yield Entry(path, None, "encrypted inside the zip (a password-protected member): not read"
                            if flags & 0x1 else f"compressed with method {method}, which this reader does not know: "
                            "not read")
        elif method == 8 and not flags & 0x1:
            end, complete, reader = _inflated(data, start)
            if path:
                problem = None if complete else "zip truncated: this file was cut short; its complete records were kept"
                yield Entry(path, reader, problem)
        elif method == 0 and not flags & 0x09:
            end = min(start + compressed_size, len(data))
            complete = end - start == compressed_size
            if path:
                problem = None if complete else "zip truncated: this file was cut short; its complete records were kept"
                yield Entry(path, lambda limit, s=start, e=end: bytes(data[s : min(e, s + limit)]), problem)
        else:
            if path:
                yield Entry(path, None, f"zip truncated; cannot recover a member stored with method {method}"
                                        + (", encrypted" if flags & 0x1 else ""))
            return
        if not complete:
            return
        position = data.find(_LOCAL_HEADER, end)


def _inflated(data, start: int) -> tuple[int, bool, Callable[[int], bytes]]:
    """Where a deflated member ends (found by inflating it once, in chunks, keeping nothing), whether it is whole, and
    a reader that inflates at most `limit` bytes of it."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    position = start
    try:
        while not inflater.eof and position < len(data):
            chunk = data[position : position + _CHUNK]
            position += len(chunk)
            inflater.decompress(chunk, _CHUNK)
            while inflater.unconsumed_tail and not inflater.eof:
                inflater.decompress(inflater.unconsumed_tail, _CHUNK)
    except zlib.error:
        return len(data), False, lambda limit: b""
    end = position - len(inflater.unused_data)
    complete = inflater.eof

    def read(limit: int) -> bytes:
        reader = zlib.decompressobj(-zlib.MAX_WBITS)
        out, offset = bytearray(), start
        try:
            while len(out) < limit and offset < end and not reader.eof:
                chunk = data[offset : min(offset + _CHUNK, end)]
                offset += len(chunk)
                out += reader.decompress(chunk, limit - len(out))
                while reader.unconsumed_tail and len(out) < limit and not reader.eof:
                    out += reader.decompress(reader.unconsumed_tail, limit - len(out))
        except zlib.error:
            pass  # the readable start is what there is
        return bytes(out[:limit])

    return end, complete, read


def copy_regular_files(source: Path, target: Path) -> list[str]:
    """A folder export copied into landing: its regular files only (what _folder_entries reads). Returns the paths it
    did not copy (symbolic links, pipes, devices), which the import lists as not read."""
    skipped = []
    for directory, subdirectories, names in os.walk(source):
        subdirectories.sort()
        relative = Path(directory).relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in sorted(names + [d for d in subdirectories if (Path(directory) / d).is_symlink()]):
            path = Path(directory) / name
            mode = path.lstat().st_mode
            if stat.S_ISREG(mode):
                shutil.copyfile(path, target / relative / name, follow_symlinks=False)
            else:
                skipped.append((relative / name).as_posix())
    return skipped
