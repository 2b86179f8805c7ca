"""Whether a process is still running, and the leftovers of those that are not.

Work that may be killed half-way (copying an export into landing, building the next published file) happens under a
name that carries its process id (`.incoming-<hash>-<pid>-...`, `.publishing-<pid>-....duckdb`), so the next run can
tell a leftover of a dead process (removed) from the work of a live one (left alone).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path


def is_running(pid: int, started_before: float | None = None) -> bool:
    """Whether process `pid` exists on this machine (not a zombie) and, given `started_before` (epoch seconds), began
    no later than that: a pid taken again by a newer process is not the one asked about."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)  # no /proc (not Linux): existence is all there is to tell
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return False
    if started_before is None:
        return True
    return _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK") <= started_before + 1


def remove_leftovers(folder: Path, pattern: str) -> list[Path]:
    """Remove the entries of `folder` whose names match `pattern` (with a group `pid`) and whose process is gone."""
    removed = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        match = re.fullmatch(pattern, entry.name)
        if match is None or is_running(int(match["pid"])):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return time.time() - time.monotonic()
