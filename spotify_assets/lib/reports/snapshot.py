"""A PNG picture of the weekday x hour heatmap (the report's main heatmap, and the picture in the Dagster UI's metadata):
a title, weekday and hour axes, the 168 cells, and a legend saying what each colour counts. Drawn with Pillow and its
built-in font, so it needs nothing from the system.
"""

from __future__ import annotations

import io

from spotify_assets.lib.reports.colours import (
    EMPTY_COLOUR,
    STEP_COLOURS,
    colour_of,
    step_bounds,
)

CELL = 24
GAP = 2
LEFT = 44  # the weekday labels
TOP = 48  # the title and the hour labels
LEGEND = 70  # the legend below the grid, and its caption
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
TEXT = (40, 40, 40)
BACKGROUND = (255, 255, 255)


def cell_origin(weekday: int, hour: int) -> tuple[int, int]:
    """The top left pixel of a cell (weekday 0..6, Monday first; hour 0..23)."""
    return LEFT + hour * (CELL + GAP), TOP + weekday * (CELL + GAP)


def legend_origin(step: int) -> tuple[int, int]:
    """The top left pixel of a legend box: step 0 for no streams, then 1..len(STEP_COLOURS)."""
    return LEFT + step * 4 * (CELL + GAP), TOP + 7 * (CELL + GAP) + 20


def weekday_hour_png(streams: list[list[int]], timezone: str = "UTC") -> bytes:
    """streams[weekday 0..6, Monday first][hour 0..23], in local time of `timezone`."""
    from PIL import Image, ImageDraw, ImageFont

    width = LEFT + 24 * (CELL + GAP) + 8
    height = TOP + 7 * (CELL + GAP) + LEGEND
    picture = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=12)
    maximum = max((value for row in streams for value in row), default=0)
    draw.text((LEFT, 6), f"Streams by weekday and hour ({timezone}), all time", fill=TEXT, font=font)
    for hour in range(0, 24, 3):
        x, _ = cell_origin(0, hour)
        draw.text((x + 2, TOP - 16), f"{hour:02d}", fill=TEXT, font=font)
    for weekday, label in enumerate(WEEKDAYS):
        _, y = cell_origin(weekday, 0)
        draw.text((6, y + 5), label, fill=TEXT, font=font)
        for hour in range(24):
            x, y = cell_origin(weekday, hour)
            draw.rectangle((x, y, x + CELL - 1, y + CELL - 1), fill=colour_of(streams[weekday][hour], maximum))
    for step, (colour, label) in enumerate(zip([EMPTY_COLOUR, *STEP_COLOURS], _legend_labels(maximum))):
        x, y = legend_origin(step)
        draw.rectangle((x, y, x + CELL - 1, y + CELL - 1), fill=colour)
        draw.text((x + CELL + 4, y + 5), label, fill=TEXT, font=font)
    draw.text((LEFT, height - 18), "streams in that hour of the week (30 s or more), all time", fill=TEXT, font=font)
    return _png(picture)


def _legend_labels(maximum: int) -> list[str]:
    return ["none"] + ["-" if low > high else f"{low:,}" if low == high else f"{low:,}-{high:,}"
                       for low, high in step_bounds(maximum)]


def modes_png(modes: list[dict]) -> bytes:
    """The listening modes on the valence x energy plane: each a disc at its centre, its area its share of the streams,
    labelled with its id, over the four mood quadrants (counting rules, section 11)."""
    from PIL import Image, ImageDraw, ImageFont

    side, margin = 300, 48
    picture = Image.new("RGB", (side + 2 * margin, side + 2 * margin + 16), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=12)
    draw.text((margin, 6), "Listening modes: centre valence x energy, area = streams", fill=TEXT, font=font)
    top = margin + 16
    draw.rectangle((margin, top, margin + side, top + side), outline=TEXT)
    middle = side // 2
    draw.line((margin + middle, top, margin + middle, top + side), fill=(200, 200, 200))
    draw.line((margin, top + middle, margin + side, top + middle), fill=(200, 200, 200))
    for x, y, label in ((4, 4, "tense-angry"), (middle + 4, 4, "happy-energetic"), (4, side - 16, "sad-low"),
                        (middle + 4, side - 16, "calm-content")):
        draw.text((margin + x, top + y), label, fill=(150, 150, 150), font=font)
    draw.text((margin + side // 2 - 20, top + side + 6), "valence", fill=TEXT, font=font)
    draw.text((4, top + side // 2), "energy", fill=TEXT, font=font)
    total = sum(mode["streams"] for mode in modes) or 1
    for mode in modes:
        radius = max(4, int(60 * (mode["streams"] / total) ** 0.5))
        x = margin + mode["centre_valence"] * side
        y = top + (1 - mode["centre_energy"]) * side
        colour = STEP_COLOURS[min(len(STEP_COLOURS) - 1, mode["mode_id"] - 1)]
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour, outline=TEXT)
        draw.text((x - 3, y - 6), str(mode["mode_id"]), fill=TEXT, font=font)
    return _png(picture)


def _png(picture) -> bytes:
    """PNG at zlib's default level: `optimize=True` took 21 ms a picture where this takes 6 ms, for 5 % smaller files
    (two pictures in every listener's report after every build; bench/RESULTS.md)."""
    output = io.BytesIO()
    picture.save(output, format="PNG")
    return output.getvalue()
