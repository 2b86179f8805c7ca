"""What a command writes to the terminal, and what it keeps off it.

- A reader that goes away (`spotify-assets import A B | head -1`, `sql ... | head`) is not a failure of the work: the
  first write to the closed pipe sends the rest of the output to /dev/null, the command finishes what it was doing and
  its exit status says how the work went. `pipe_closed()` lets a command that only prints stop early.
- While a run executes, the process's own file descriptors 1 and 2 point at `$SPOTIFY_DATA_DIR/logs/runs.log`, so
  whatever a library or a child process writes there (dbt's progress lines, the traceback a helper process of
  Dagster's prints when the terminal's Ctrl-C reaches it too) lands in the log. The command's own lines go to the
  terminal through `say()` and `warn()`.
- A failure nobody foresaw is one line on the terminal; its traceback goes to `logs/errors.log`.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path


class _PipeTolerant:
    """A text stream that turns into /dev/null once its reader has gone away."""

    def __init__(self, stream):
        self._stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        if self.reader_gone:
            return len(text)
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._reader_went_away()
            return len(text)

    def flush(self) -> None:
        if self.reader_gone:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._reader_went_away()

    def _reader_went_away(self) -> None:
        self.reader_gone = True
        try:
            descriptor = self._stream.fileno()
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, descriptor)  # what is still buffered goes nowhere, quietly
            os.close(null)
        except (OSError, ValueError):
            pass

    def __getattr__(self, name):
        return getattr(self._stream, name)


_stdout: _PipeTolerant | None = None
_stderr: _PipeTolerant | None = None


def install() -> None:
    """Make sys.stdout and sys.stderr tolerate a reader that goes away."""
    global _stdout, _stderr
    if _stdout is None:
        _stdout, _stderr = _PipeTolerant(sys.stdout), _PipeTolerant(sys.stderr)
        sys.stdout, sys.stderr = _stdout, _stderr


def pipe_closed() -> bool:
    return _stdout is not None and _stdout.reader_gone


# Where the command's own lines go while a run has the process's descriptors 1 and 2 pointing at the log.
_terminal_out = None
_terminal_err = None


def say(line: str) -> None:
    print(line, file=_terminal_out or sys.stdout, flush=True)


def warn(line: str) -> None:
    print(line, file=_terminal_err or sys.stderr, flush=True)


@contextmanager
def output_to_log(log_path: Path) -> Iterator[None]:
    """Descriptors 1 and 2 (and sys.stdout, sys.stderr) point at `log_path` meanwhile; say() and warn() still reach
    the terminal."""
    global _terminal_out, _terminal_err
    if _terminal_out is not None:  # already inside
        yield
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = {descriptor: os.dup(descriptor) for descriptor in (1, 2)}
    out_stream, err_stream = sys.stdout, sys.stderr
    terminal_out = _PipeTolerant(os.fdopen(os.dup(saved[1]), "w", encoding="utf-8", errors="replace"))
    if _stdout is not None and _stdout.reader_gone:
        terminal_out.reader_gone = True
    terminal_err = _PipeTolerant(os.fdopen(os.dup(saved[2]), "w", encoding="utf-8", errors="replace"))
    with log_path.open("a") as log:
        log.write(f"\n--- {datetime.now(timezone.utc).isoformat(timespec='seconds')} "
                  f"spotify-assets {' '.join(sys.argv[1:])}\n")
        log.flush()
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        sys.stdout, sys.stderr = log, log
        _terminal_out, _terminal_err = terminal_out, terminal_err
        try:
            yield
        finally:
            log.flush()
            sys.stdout, sys.stderr = out_stream, err_stream
            _terminal_out = _terminal_err = None
            for descriptor, copy in saved.items():
                os.dup2(copy, descriptor)
                os.close(copy)
            terminal_out.close()
            terminal_err.close()


def record_crash(data_path: Path | None) -> Path:
    """Append the current exception's traceback to logs/errors.log in the data folder (or, when that folder is not
    usable, to the temporary folder's spotify-assets-errors.log) and return where it went."""
    text = (f"--- {datetime.now(timezone.utc).isoformat(timespec='seconds')} spotify-assets "
            f"{' '.join(sys.argv[1:])}\n{traceback.format_exc()}\n")
    candidates = ([data_path / "logs" / "errors.log"] if data_path else []) + [
        Path(tempfile.gettempdir()) / "spotify-assets-errors.log"]
    for path in candidates:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a") as log:
                log.write(text)
            return path
        except OSError:
            continue
    return candidates[-1]
