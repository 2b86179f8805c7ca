"""A read-only connection right after a read-write one in the same process (the metadata read after dbt's build):
DuckDB refuses it while the writer's database is still alive, whether a reference cycle or another thread lets it go
a moment later."""

import threading

import duckdb
import pytest

from spotify_assets.lib import warehouse
from spotify_assets.lib.warehouse import warehouse_connection


def _writer(settings):
    settings.data_path.mkdir(parents=True, exist_ok=True)
    writer = duckdb.connect(str(settings.warehouse_path))  # as dbt-duckdb opens it: no configuration, then its settings
    writer.execute("SET memory_limit = '300MB'")
    writer.execute("CREATE TABLE plays AS SELECT 42 AS streams")
    return writer


def test_a_writer_left_in_a_reference_cycle_is_collected(settings):
    cycle = [_writer(settings)]
    cycle.append(cycle)
    del cycle
    with warehouse_connection(settings, read_only=True) as reader:
        assert reader.execute("SELECT streams FROM plays").fetchall() == [(42,)]


def test_a_writer_another_thread_lets_go_of_a_moment_later(settings):
    holder = [_writer(settings)]
    threading.Timer(0.5, holder.clear).start()  # an object of dbt's worker thread, released after the command
    with warehouse_connection(settings, read_only=True) as reader:
        assert reader.execute("SELECT streams FROM plays").fetchall() == [(42,)]


def test_a_writer_that_stays_is_still_an_error(settings, monkeypatch):
    monkeypatch.setattr(warehouse, "CLOSE_WAIT_SECONDS", 0.5)
    writer = _writer(settings)
    with pytest.raises(duckdb.ConnectionException, match="different configuration"):
        with warehouse_connection(settings, read_only=True):
            pass
    writer.close()
