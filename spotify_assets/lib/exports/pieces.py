"""A history file of any size, read as pieces of whole records, so memory holds one piece whatever the file's size.

Spotify writes its history files at about 12 MB and those are read whole. A larger one (files merged by hand,
another tool's export: 300 MB and more have been seen) is streamed instead: its bytes are cut between two records
into pieces of about PIECE_BYTES, each a JSON array of its own, and every piece is read like a file (by DuckDB, or
record by record), its record indexes counted on from the piece before.

A record is found by one regular expression for a flat JSON object, which every Spotify history record is (strings
may hold anything, escaped). Whatever else lies between two records (a record that is not valid JSON, a nested
value) stays in the piece up to the place where the next record starts, and the parser quarantines it there exactly
as in a file read whole. A file that ends without its closing bracket ends its last piece without one too, so the
parser says it was cut short. A stretch of more than STRETCH_BYTES where no record starts is not held in memory: the
file is read no further, and the last piece says why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

PIECE_BYTES = 16 * 1024 * 1024
# No history record comes near this size: where no record ends within it, something else is there.
RECORD_BYTES = 1024 * 1024
STRETCH_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 4 * 1024 * 1024
# A JSON object holding no object or array: a history record. Possessive, so a record not closed yet (its end is in
# the next chunk) fails at once instead of backtracking.
_FLAT_RECORD = re.compile(rb'\{(?:[^{}\[\]"]++|"(?:[^"\\]++|\\.)*+")*+\}', re.DOTALL)
_BETWEEN_RECORDS = re.compile(rb"[\s,]*+")
_NEXT_RECORD = re.compile(rb"\}\s*,\s*\{")


@dataclass(frozen=True)
class Piece:
    content: bytes  # "[" + whole records + "]" (no "]" when the file ended without one)
    first_line: int = 1  # the file's line on which the piece's first record starts
    problem: str | None = None  # why the file was read no further


def pieces(stream: BinaryIO, piece_bytes: int | None = None, stretch_bytes: int | None = None,
           chunk_bytes: int | None = None) -> Iterator[Piece]:
    """The file's records in pieces (sizes default to the module's constants, read when called). A file that does
    not start as a JSON array is one piece of its first bytes, which the parser then calls unreadable, saying what it
    is."""
    piece_bytes, stretch_bytes = piece_bytes or PIECE_BYTES, stretch_bytes or STRETCH_BYTES
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    buffer = bytearray(stream.read(chunk_bytes))
    ended = len(buffer) < chunk_bytes
    start = 3 if buffer.startswith(b"\xef\xbb\xbf") else 0
    start = _BETWEEN_RECORDS.match(buffer, start).end() if buffer[start:start + 1].isspace() else start
    while not buffer[start:].strip() and not ended:  # a file that starts with a long run of whitespace
        buffer[:] = buffer[:start] + stream.read(chunk_bytes)
        ended = len(buffer) <= start
        start = len(buffer) - len(buffer[start:].lstrip())
    if buffer[start:start + 1] != b"[":
        yield Piece(bytes(buffer[:chunk_bytes]))
        return
    lines = buffer.count(b"\n", 0, start + 1)  # before the piece under way
    del buffer[:start + 1]
    position = 0  # where the next record may start; the piece under way is buffer[:position]
    searched = 0  # how far the search for the next record has looked

    def piece(end: int, closing: bytes = b"", problem: str | None = None) -> Piece:
        records = bytes(buffer[:end])
        kept = records.lstrip(b", \t\r\n")  # the comma that separated it from the piece before
        first_line = 1 + lines + records.count(b"\n", 0, len(records) - len(kept))
        return Piece(b"[" + kept + closing, first_line, problem)

    while True:
        position = _BETWEEN_RECORDS.match(buffer, position).end()
        record = _FLAT_RECORD.match(buffer, position)
        if record:
            position = record.end()
            if position >= piece_bytes:
                yield piece(position, b"]")
                lines += buffer.count(b"\n", 0, position)
                del buffer[:position]
                position = searched = 0
            continue
        if buffer[position:position + 1] == b"]":
            yield piece(position + 1)
            return
        if ended:  # no record here, and nothing more to come: the rest as it is (the parser says what it is)
            yield piece(len(buffer))
            return
        if len(buffer) - position >= RECORD_BYTES:  # no record is this long: what is here is something else
            following = _NEXT_RECORD.search(buffer, max(position, searched))
            if following is not None:
                position = following.start() + 1  # what lies before the next record stays with this piece
                continue
            searched = max(position, len(buffer) - 16)
            if len(buffer) - position >= stretch_bytes:
                yield piece(position, b"]", f"no record starts in the {stretch_bytes // 2**20} MB after record-like "
                                            "data stopped: the rest of the file was not read")
                return
        chunk = stream.read(chunk_bytes)  # the record here goes on in the next chunk
        ended = len(chunk) < chunk_bytes
        buffer += chunk
