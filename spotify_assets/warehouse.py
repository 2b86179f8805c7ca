"""The one DuckDB warehouse file. Every writer runs in the Dagster pool `warehouse` (limit 1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from .settings import SpotifySettings

WAREHOUSE_POOL = "warehouse"


@contextmanager
def warehouse_connection(settings: SpotifySettings, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    settings.data_path.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(settings.warehouse_path), read_only=read_only)
    try:
        yield connection
    finally:
        connection.close()
