"""Receiving exports: each one is copied byte for byte into landing under its content hash.

`landing/exports/<sha256>/payload/<original name>` holds the zip, folder or JSON file exactly as the
listener gave it; `receipt.json` beside it says what it was and when it came. The hash makes
receiving idempotent: the same export dropped twice lands once and is one Dagster partition.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from spotify_assets.lib.exports.members import copy_regular_files
from spotify_assets.lib.processes import remove_leftovers

_CHUNK = 1 << 20
# A copy into landing under way (or left by a process that was killed: removed by the next one).
INCOMING_LEFTOVER = r"\.incoming-[0-9a-f]{12}-(?P<pid>[0-9]+)-.*"


@dataclass(frozen=True)
class LandedExport:
    export_hash: str
    name: str
    kind: str  # "zip", "folder" or "file"
    directory: Path
    not_copied: tuple[str, ...] = ()  # a folder's symbolic links and special files, which landing does not follow
    received_at: str = ""  # when it landed (ISO 8601, UTC); an export removed and landed again lands anew
    new: bool = False  # landed by this call (receive_export), not found in landing already

    @property
    def payload(self) -> Path:
        return self.directory / "payload" / self.name


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def content_hash(path: Path) -> str:
    """sha256 of a file's bytes; for a folder, of its regular files' sorted relative paths and hashes (what landing
    copies of it)."""
    if path.is_file():
        return _file_digest(path)
    digest = hashlib.sha256()
    for file in sorted(_regular_files(path)):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0" + _file_digest(file).encode() + b"\n")
    return digest.hexdigest()


def _regular_files(folder: Path) -> list[Path]:
    """Never through a symbolic link, never a pipe or a device: a folder export is what is inside it."""
    return [Path(directory) / name for directory, _, names in os.walk(folder) for name in names
            if stat.S_ISREG((Path(directory) / name).lstat().st_mode)]


def export_kind(path: Path) -> str:
    if path.is_dir():
        return "folder"
    return "zip" if path.suffix.lower() == ".zip" else "file"


def is_candidate(path: Path) -> bool:
    """What the inbox accepts: zips, JSON files and folders; hidden and partial downloads are skipped."""
    if path.name.startswith(".") or path.suffix.lower() in {".part", ".crdownload", ".tmp"}:
        return False
    return path.is_dir() or path.suffix.lower() in {".zip", ".json"}


def receive_export(source: Path, exports_landing: Path, export_hash: str | None = None) -> LandedExport:
    """Copy `source` into landing (once) and return where it is. Safe to call again and concurrently."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such export file or folder")
    if not (source.is_dir() or source.is_file()):
        raise FileNotFoundError(f"{source}: not a file or a folder (a pipe or a device?)")
    export_hash = export_hash or content_hash(source)
    kind = export_kind(source)
    final = exports_landing / export_hash
    new = not (final / "receipt.json").exists()
    if new:
        exports_landing.mkdir(parents=True, exist_ok=True)
        # Build the copy beside its final place and rename it in one step, so a crash never
        # leaves a half-copied export that looks complete.
        remove_leftovers(exports_landing, INCOMING_LEFTOVER)
        staging = Path(tempfile.mkdtemp(prefix=f".incoming-{export_hash[:12]}-{os.getpid()}-", dir=exports_landing))
        try:
            target = staging / "payload" / source.name
            target.parent.mkdir()
            not_copied: list[str] = []
            if kind == "folder":
                not_copied = copy_regular_files(source, target)
            else:
                shutil.copyfile(source, target)
            receipt = {
                "export_hash": export_hash,
                "name": source.name,
                "kind": kind,
                "received_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "not_copied": not_copied,
            }
            (staging / "receipt.json").write_text(json.dumps(receipt, indent=2))
            try:
                os.rename(staging, final)
            except OSError:
                if not (final / "receipt.json").exists():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return replace(load_landed_export(final), new=new)


def load_landed_export(directory: Path) -> LandedExport:
    receipt = json.loads((directory / "receipt.json").read_text())
    return LandedExport(receipt["export_hash"], receipt["name"], receipt["kind"], directory,
                        tuple(receipt.get("not_copied", ())), receipt.get("received_at", ""))


def landed_exports(exports_landing: Path) -> list[LandedExport]:
    """Every export in landing; a copy still under way and an export being removed (hidden names) are not."""
    if not exports_landing.exists():
        return []
    return [load_landed_export(d) for d in sorted(exports_landing.iterdir())
            if not d.name.startswith(".") and (d / "receipt.json").exists()]


# An export on its way out of landing (`spotify-assets exports remove`): renamed first, so it is no longer landed,
# then its raw rows go, then the folder. Whatever stops half-way, the next build finishes (lib/exports/removal.py).
REMOVED_PREFIX = ".removed-"


def start_removal(landed: LandedExport) -> Path:
    """Take the export out of landing in one step; returns where it waits until its rows are gone."""
    target = landed.directory.with_name(REMOVED_PREFIX + landed.export_hash)
    os.rename(landed.directory, target)
    return target


def removals_under_way(exports_landing: Path) -> list[LandedExport]:
    if not exports_landing.exists():
        return []
    return [load_landed_export(d) for d in sorted(exports_landing.glob(REMOVED_PREFIX + "*"))
            if (d / "receipt.json").exists()]
