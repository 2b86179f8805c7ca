"""The DuckDB warehouse: warehouse.duckdb (raw, staging, intermediate) and warehouse_marts.duckdb (the marts,
which dbt writes there and publishing copies whole). Every writer runs in the Dagster pool `warehouse` (limit 1)."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # the settings are a Dagster resource; lib reads only their values, and imports no Dagster
    from spotify_assets.settings import SpotifySettings

WAREHOUSE_POOL = "warehouse"
# How long a connection waits for this process's own earlier connection of another mode to be let go (_connect).
CLOSE_WAIT_SECONDS = 5
# The marts file's name inside a warehouse connection: the alias dbt_project/profiles.yml attaches it under, the
# name the published copy has too (marts.duckdb), so `marts.fct_plays` means one thing everywhere.
MARTS_DATABASE = "marts"


# A writer (in the pool) waits this long for readers outside it (`spotify-assets summary`, a SQL client on the
# warehouse file) to let go: DuckDB refuses to open a file for writing while another process reads it.
WRITER_WAIT_SECONDS = 60


class WarehouseBusy(Exception):
    """Another process holds the warehouse file (DuckDB lets no other process open a file one writes, and no writer
    open a file another process reads)."""


@contextmanager
def warehouse_connection(settings: SpotifySettings, read_only: bool = False, with_marts: bool = False,
                         wait_seconds: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """`with_marts`: the marts file attached as dbt attaches it (once dbt has written it), and on the search path:
    `marts.fct_plays` and `fct_plays` mean what they mean in dbt's models and in the published file.
    `wait_seconds`: how long to wait while another process holds the file before giving up with WarehouseBusy
    (DuckDB itself does not wait); by default a writer waits WRITER_WAIT_SECONDS for readers, a reader not at all."""
    settings.data_path.mkdir(parents=True, exist_ok=True)
    if wait_seconds is None:
        wait_seconds = 0 if read_only else WRITER_WAIT_SECONDS
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            connection = _connect(settings.warehouse_path, read_only)
            break
        except duckdb.IOException as error:
            if not _held_by_another_process(error) or not wait_seconds:
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(f"{settings.warehouse_path} is held by another process") from None
            time.sleep(0.5)
    try:
        if with_marts and settings.warehouse_marts_path.exists():
            connection.execute(f"ATTACH '{settings.warehouse_marts_path}' AS {MARTS_DATABASE}" + (" (READ_ONLY)" if read_only else ""))
            connection.execute(f"SET search_path = 'main,{MARTS_DATABASE}.main'")
        yield connection
    finally:
        connection.close()


def _connect(path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection to the file. DuckDB keeps a file open in a process while any connection to it lives, and refuses a
    connection of another mode (read-only after read-write) meanwhile. dbt in the Dagster process closes its
    connection after each command, but a dbt Python model's relations can keep one alive in a reference cycle until the
    heap is next collected, or another thread can hold it a moment longer: each further attempt collects the heap
    first, for up to CLOSE_WAIT_SECONDS. A reference that outlives the wait is still an error (bench/RESULTS.md: one
    such refusal after dbt, not yet explained, outlasted it)."""
    import tenacity

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(lambda error: isinstance(error, duckdb.ConnectionException)
                                          and "different configuration" in str(error)),
        stop=tenacity.stop_after_delay(CLOSE_WAIT_SECONDS), wait=tenacity.wait_fixed(0.1),
        before_sleep=lambda _: gc.collect(), reraise=True)
    return retrying(duckdb.connect, str(path), read_only=read_only)


def _held_by_another_process(error: duckdb.IOException) -> bool:
    """DuckDB's refusal to open a file another process has open (its message names the file, so match the words)."""
    return "Could not set lock" in str(error) or "Conflicting lock" in str(error)
