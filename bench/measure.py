"""Wall time and peak memory of a command and every process it starts.

Peak memory is the largest sum of resident memory over the whole process tree (the command, Dagster's
in-process runs, the dbt processes it starts), sampled every 50 ms from /proc: what the machine must hold.
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PAGE_SAMPLE_SECONDS = 0.05


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    completed: subprocess.CompletedProcess


def _tree_rss_kb(root: int) -> int:
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError):
            continue
    return total


def run_measured(command: list[str], **options) -> Measured:
    peak = [0]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(process.pid))
            done.wait(PAGE_SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return Measured(seconds, peak[0] / 1024, subprocess.CompletedProcess(command, process.returncode, stdout, stderr))
