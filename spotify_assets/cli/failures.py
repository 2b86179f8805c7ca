"""How a command ends when it cannot do what it says (importing nothing heavy, so a command fails fast)."""

from __future__ import annotations

import threading

INTERRUPTED = threading.Event()  # set by Ctrl-C (SIGINT) or SIGTERM: the command stops, exit status 130


class CommandFailed(Exception):
    """A one-line reason for a non-zero exit."""
