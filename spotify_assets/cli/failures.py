"""How a command ends when it cannot do what it says (importing nothing heavy, so a command fails fast), and how it
knows it was interrupted.

Ctrl-C raises an exception in whatever Python code runs at that moment; when that is a weakref callback or a
`__del__` (a garbage collection in the middle of dbt's work, say), Python prints the exception and goes on, and the
interrupt is lost. So every SIGINT and SIGTERM is also written, by Python's own C-level handler, to a pipe
(`signal.set_wakeup_fd`), whatever Python-level handler Dagster or dbt has installed meanwhile; `interrupted()` reads
it, and a command that finds an interrupt there stops.
"""

from __future__ import annotations

import os
import signal
import threading

INTERRUPTED = threading.Event()  # set by Ctrl-C (SIGINT) or SIGTERM: the command stops, exit status 130
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_wakeup: dict[str, int] = {}


class CommandFailed(Exception):
    """A one-line reason for a non-zero exit."""


def watch_interrupts() -> None:
    """From the main thread, before anything else: every signal the process receives is noted in a pipe."""
    read, write = os.pipe()
    os.set_blocking(read, False)
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    _wakeup["read"] = read


def interrupted() -> bool:
    """Whether Ctrl-C (or SIGTERM) has reached the process, however its handler fared."""
    if "read" in _wakeup:
        try:
            received = os.read(_wakeup["read"], 1024)
        except BlockingIOError:
            received = b""
        if _STOP_SIGNALS & set(received):
            INTERRUPTED.set()
    return INTERRUPTED.is_set()
