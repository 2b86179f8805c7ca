"""A PNG picture of the weekday x hour heatmap, written without an imaging library.

PNG is a signature, an IHDR chunk, zlib-compressed scanlines and IEND; for a grid of flat colours that is
a few lines of standard library, and it keeps the install small.
"""

import struct
import zlib

from spotify_assets.lib.reports.colours import STEP_COLOURS, colour_of

CELL = 22
GAP = 2
LEGEND_HEIGHT = 14


def _rgb(colour: str) -> bytes:
    return bytes.fromhex(colour.lstrip("#"))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(pixels: list[bytes], width: int) -> bytes:
    """pixels: one bytes object of width*3 RGB values per row."""
    raw = b"".join(b"\x00" + row for row in pixels)  # filter type 0 (none) on every scanline
    header = struct.pack(">IIBBBBB", width, len(pixels), 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def weekday_hour_png(streams: list[list[int]]) -> bytes:
    """streams[weekday 0..6, Monday first][hour 0..23] -> a 24 x 7 grid, then a legend strip of the steps."""
    background = b"\xff\xff\xff"
    maximum = max((value for row in streams for value in row), default=0)
    width = 24 * (CELL + GAP) + GAP
    rows = []
    for weekday in range(7):
        line = background * GAP
        for hour in range(24):
            line += _rgb(colour_of(streams[weekday][hour], maximum)) * CELL + background * GAP
        rows += [background * width] * GAP
        rows += [line] * CELL
    rows += [background * width] * (GAP * 3)
    legend = background * GAP + b"".join(_rgb(colour) * (CELL * 2) + background * GAP for colour in STEP_COLOURS)
    legend += background * (width - len(legend) // 3)
    rows += [legend] * LEGEND_HEIGHT + [background * width] * GAP
    return encode_png(rows, width)
