"""The report page: the template with its data and colours filled in, written atomically."""

import json
import os
from importlib import resources
from pathlib import Path

from spotify_assets.lib.reports.colours import EMPTY_COLOUR, STEP_COLOURS

REPORT_FILE_NAME = "listening_report.html"  # in the data folder's reports/ (SpotifySettings.reports_path)


def render_report(contents: dict) -> str:
    template = resources.files(__package__).joinpath("listening_report.html").read_text(encoding="utf-8")
    # Inside <script> only "</" could end the element early; \u003c is the same character to JSON.
    # contents["hours"] is JSON text already (numbers only); it takes the place of a null placeholder.
    data = json.dumps({**contents, "hours": None}, separators=(",", ":"), ensure_ascii=False).replace("<", "\\u003c")
    data = data.replace('"hours":null', f'"hours":{contents["hours"]}', 1)
    return (template.replace("__EMPTY_COLOUR__", EMPTY_COLOUR)
            .replace("__STEP_COLOURS__", json.dumps(STEP_COLOURS))
            .replace("__REPORT_DATA__", data))


def write_atomically(path: Path, content: bytes) -> None:
    """A reader (a browser reloading, say) sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)
