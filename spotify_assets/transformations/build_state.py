"""What the warehouse's models were built from, so a change of setting or code never publishes stale figures.

Incremental models keep the rows earlier runs computed: after a change of the time zone every local date and
hour they hold is wrong, and after a change of a model its older rows follow the old SQL. So the warehouse
records a fingerprint of everything its rows depend on (the dbt project's files, dbt's versions, the time zone,
the Python name normalization) after each complete, successful build. A build that finds another fingerprint
rebuilds every model from raw (`dbt build --full-refresh`); a partial run (a poll's update, an automation
subset) refuses with one line naming the fix, since rebuilding part of the models would mix old and new rows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..settings import SpotifySettings
from ..warehouse import warehouse_connection
from . import parsed_manifests
from .project import DBT_PROJECT_DIR

_STATE_TABLE = "main.warehouse_build_state"
# Python code whose results the models store: the name normalization behind every key.
_PYTHON_SOURCES = (Path(__file__).resolve().parents[1] / "identity.py",)


def current_fingerprint(settings: SpotifySettings) -> str:
    digest = hashlib.sha256(parsed_manifests.fingerprint(DBT_PROJECT_DIR, settings.dbt_environment()).encode())
    for source in _PYTHON_SOURCES:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def built_with(connection) -> tuple[str, str] | None:
    """(fingerprint, time zone) of the last complete build, or None before the first."""
    if not connection.execute("SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
                              "AND schema_name = 'main' AND table_name = 'warehouse_build_state'").fetchall():
        return None
    rows = connection.execute(f"SELECT fingerprint, timezone FROM {_STATE_TABLE}").fetchall()
    return rows[0] if rows else None


def has_models(connection) -> bool:
    """Whether dbt has built anything here yet (a new warehouse needs no refresh to be right)."""
    return bool(connection.execute("SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
                                   "AND schema_name = 'intermediate' LIMIT 1").fetchall())


def record_build(connection, settings: SpotifySettings, fingerprint: str) -> None:
    connection.execute(f"CREATE TABLE IF NOT EXISTS {_STATE_TABLE} (fingerprint VARCHAR, timezone VARCHAR, "
                       "built_at TIMESTAMP)")
    connection.execute("BEGIN TRANSACTION")
    connection.execute(f"DELETE FROM {_STATE_TABLE}")
    connection.execute(f"INSERT INTO {_STATE_TABLE} VALUES (?, ?, now())", [fingerprint, settings.timezone_name])
    connection.execute("COMMIT")


def clear_marts(settings: SpotifySettings) -> None:
    """Before a full rebuild: the marts file goes (it holds nothing but marts, which the rebuild writes again), so it
    is created anew in the current layout and storage format; so does the `marts` schema that warehouses from
    before the marts had a file of their own kept in warehouse.duckdb (it would make `marts.x` ambiguous)."""
    for path in (settings.warehouse_marts_path, settings.warehouse_marts_path.with_name(
            settings.warehouse_marts_path.name + ".wal")):
        path.unlink(missing_ok=True)
    with warehouse_connection(settings) as connection:
        connection.execute("DROP SCHEMA IF EXISTS marts CASCADE")


def stale_reason(connection, settings: SpotifySettings, fingerprint: str) -> str | None:
    """Why the models' rows no longer match the settings and code, or None when they do (or none exist yet)."""
    if not has_models(connection):
        return None
    recorded = built_with(connection)
    if recorded is None:
        return "the warehouse has no record of a complete build (an earlier version of this project, or a failed build)"
    if recorded[0] == fingerprint:
        return None
    if recorded[1] != settings.timezone_name:
        return f"SPOTIFY_TIMEZONE changed from {recorded[1]} to {settings.timezone_name} since the warehouse was built"
    return "the dbt project (or the versions of dbt) changed since the warehouse was built"
